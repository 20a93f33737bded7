"""The agent's tools as MCP tools: the same specs, schemas and descriptions the model is bound with, annotated
from each spec's own data (`ToolSpec.hints`), and called through the tools' one `execute` path.

A call that needs a person's approval (the spec's approval policy, `ToolSpec.needs_approval`, with the user's
reminder setting) is never executed on the calling model's word: it is handed to the approvals flow
(`api/mcp/approvals.py`), which asks the person or holds the call for them.
"""

from __future__ import annotations

import uuid
from typing import Any

import mcp_types as types
import orjson

from api.mcp.context import McpCaller
from db import audit
from tools.base import ToolSpec, execute
from tools.registry import ALL
from tools.results import dumps, redact

DOCUMENT_URI = "docusign://documents/{document_id}"
ENVELOPE_URI = "docusign://envelopes/{envelope_id}"
APPROVAL_NOTE = (" Irreversible: the person you act for decides on each call before it runs (asked here when your "
                 "client supports elicitation, otherwise held for them in the chat page or /v1/approvals).")


def title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def annotations(spec: ToolSpec) -> types.ToolAnnotations:
    hints = spec.hints()
    return types.ToolAnnotations(title=title(spec.name), read_only_hint=hints["read_only"],
                                 destructive_hint=hints["destructive"], idempotent_hint=hints["idempotent"],
                                 open_world_hint=hints["open_world"])


def mcp_tool(spec: ToolSpec) -> types.Tool:
    asks = spec.approval != "never"
    return types.Tool(name=spec.name, title=title(spec.name),
                      description=spec.description + (APPROVAL_NOTE if asks else ""),
                      input_schema=spec.args_schema.model_json_schema(), annotations=annotations(spec))


# Built once: the specs are data and the schemas never change while a process runs.
TOOLS: list[types.Tool] = [mcp_tool(spec) for spec in ALL]


def result(payload: dict[str, Any]) -> types.CallToolResult:
    """A tool payload as MCP's result: the JSON as text (what models read), the same as structured content, and
    a link to the stored document when the call produced one (a download), which the client can read."""
    text = dumps(payload)
    content: list[Any] = [types.TextContent(type="text", text=text)]
    document_id = payload.get("document_id")
    if isinstance(document_id, str) and "error" not in payload:
        content.append(types.ResourceLink(type="resource_link", uri=DOCUMENT_URI.format(document_id=document_id),
                                          name=str(payload.get("filename") or document_id),
                                          mime_type="application/pdf"))
    # The structure is the text read back, so dates and the like read the same in both.
    return types.CallToolResult(content=content, structured_content=orjson.loads(text), is_error="error" in payload)


def failure(code: str, message: str, **extra: Any) -> types.CallToolResult:
    return result({"error": code, "message": message, **extra})


async def run(caller: McpCaller, spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """One call through `execute` (validate, audit, call, explain), acting for the caller."""
    return await execute(spec, args, caller.tool_context(f"mcp-{uuid.uuid4().hex}"))


async def audit_refusal(caller: McpCaller, spec: ToolSpec, args: dict[str, Any], *, status: str,
                        tool_call_id: str | None = None) -> None:
    """A call that never reached `execute` (refused, or rejected by the person) still leaves its audit row."""
    envelope_id = args.get("envelope_id")
    async with caller.database.user_session(caller.user_id) as session:
        await audit.start(session, user_id=caller.user_id, actor="agent" if status == "failed" else "user",
                          operation=spec.name, arguments=redact(args), status=status, tool_call_id=tool_call_id,
                          envelope_id=envelope_id if isinstance(envelope_id, str) else None)
