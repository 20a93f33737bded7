"""What a tool call acts with: who it acts for, which conversation, and the dependencies of the run.

Built per call by the agent's tool node from the run's context (`agent/context.py`), so a tool never looks its
database, settings, DocuSign client or model up anywhere: two apps in one process, each with its own database,
never see each other's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langgraph.store.base import BaseStore

from db.session import Database
from docusign_agent.settings import Settings
from docusign_client.client import DocuSignClient
from docusign_client.clients import DocuSignClients


# Namespace of the envelope request ids derived from tool calls (uuid5); any fixed UUID would do.
REQUEST_IDS = uuid.UUID("6f1c1b0e-5d0a-4c55-9a8e-2f3c6d7e8a91")


def envelope_request_id(user_id: uuid.UUID | str, thread_id: str | None, run_id: str | None,
                        tool_call_id: str | None) -> str:
    """The `dsa_request_id` of the envelope one tool call creates, derived from the call itself, so that when
    the process dies during the call, recovery can ask DocuSign for it (a call outside a run gets a new one)."""
    if not tool_call_id:
        return str(uuid.uuid4())
    return str(uuid.uuid5(REQUEST_IDS, f"{user_id}:{thread_id}:{run_id}:{tool_call_id}"))


class MissingUser(Exception):
    """The run carries no user the call could act for."""


@dataclass(frozen=True)
class ToolContext:
    user_id: uuid.UUID
    thread_id: str | None
    run_id: str | None
    tool_call_id: str | None
    settings: Settings
    database: Database
    docusign: DocuSignClients
    analysis_model: BaseChatModel  # answers document-analysis prompts (no streaming, no tools)
    store: BaseStore | None = None  # the run's long-term memory (the user's own under our server)
    assistant_id: str | None = None  # the assistant the run is of (what a scheduled task runs again)

    @property
    def request_id(self) -> str:
        return envelope_request_id(self.user_id, self.thread_id, self.run_id, self.tool_call_id)

    async def client(self) -> DocuSignClient:
        """This user's DocuSign client (raises NotConnected / ReconnectRequired when they must connect first)."""
        return await self.docusign.for_user(self.user_id)
