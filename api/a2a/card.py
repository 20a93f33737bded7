"""The A2A agent card: who an assistant is, where to reach it, how to authenticate, and what it can do.

For the product's graph the skills are its tools (from their specs, so the card cannot drift from what the
agent does); any other graph is one conversational skill. The security schemes are the API's own: a bearer
JWT, or an API key in `X-Api-Key`.
"""

from __future__ import annotations

from typing import Any

from api.a2a.protocol import PROTOCOL_VERSION
from docusign_agent import __version__
from docusign_agent.settings import Settings
from tools.registry import ALL

PRODUCT_GRAPH = "agent"
DESCRIPTION = ("A DocuSign e-signature agent: finds templates and envelopes, sends documents and templates for "
               "signature, tracks, reminds, corrects and voids envelopes, bulk sends, and analyses documents. "
               "Anything irreversible waits for the person's own decision in the chat page.")


def _skills(graph_id: str, name: str) -> list[dict[str, Any]]:
    if graph_id != PRODUCT_GRAPH:
        return [{"id": graph_id, "name": name, "description": f"Conversation with the {graph_id} graph.",
                 "tags": ["chat"]}]
    return [{"id": spec.name, "name": spec.name.replace("_", " ").capitalize(), "description": spec.description,
             "tags": ["docusign", spec.effect, *(["needs approval"] if spec.approval != "never" else [])]}
            for spec in ALL]


def agent_card(settings: Settings, assistant_id: str, *, name: str, description: str | None,
               graph_id: str) -> dict[str, Any]:
    url = f"{settings.base_url}/a2a/{assistant_id}"
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "name": name,
        "description": description or (DESCRIPTION if graph_id == PRODUCT_GRAPH else f"The {graph_id} assistant."),
        "url": url,
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": url, "transport": "JSONRPC"}],
        "version": __version__,
        "capabilities": {"streaming": True, "pushNotifications": False, "stateTransitionHistory": False},
        "defaultInputModes": ["text/plain", "application/json"],
        "defaultOutputModes": ["text/plain"],
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "A token from `docusign-agent token`, the local sign-in, or the issuer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                       "description": "A key made with POST /v1/api-keys"},
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "skills": _skills(graph_id, name),
    }
