"""The run context: everything one run of the agent graph acts with, handed to it by whoever runs it.

Our executor passes `RunContext(dependencies=...)` as LangGraph's runtime context (`graph.astream(...,
context=...)`), built once per app from that app's settings, database, DocuSign clients and chat models; the
nodes read it from `runtime.context` and build each tool call's `ToolContext` from it. Nothing is looked up in
a module global, so two apps in one process each run with their own.

Why a pydantic model with an optional field: LangGraph coerces a context that arrives as a dict into the
graph's `context_schema` (`RunContext(**dict)`), and `langgraph dev` passes the client's `context`, or a copy
of its `config.configurable`, as that dict. A client cannot send live objects, so such a context carries no
dependencies (unknown keys are ignored), and the graph falls back to the ones `agent.standalone` builds once
for a process that is not our server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.store.base import BaseStore
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

from db.session import Database
from docusign_agent.settings import Settings
from docusign_client.clients import DocuSignClients
from tools.context import MissingUser, ToolContext


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    database: Database
    docusign: DocuSignClients
    chat_model: BaseChatModel  # the conversation's model; the graph binds the tools to it per call
    analysis_model: BaseChatModel  # document analysis, without streaming
    default_user_id: uuid.UUID | None = None  # acts for runs that carry no user (only outside our server)


class RunContext(BaseModel):
    """The graph's `context_schema`. Clients can set nothing in it; the server supplies `dependencies`."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="ignore")
    dependencies: SkipJsonSchema[Dependencies | None] = None


def run_identity(config: RunnableConfig | None) -> dict[str, str | None]:
    """The ids a run carries in `configurable` (the executor puts the authenticated user there)."""
    configurable: dict[str, Any] = dict((config or {}).get("configurable") or {})
    return {key: None if configurable.get(key) is None else str(configurable[key])
            for key in ("user_id", "thread_id", "run_id", "assistant_id")}


def tool_context(deps: Dependencies, config: RunnableConfig | None, tool_call_id: str | None = None, *,
                 store: BaseStore | None = None) -> ToolContext:
    ids = run_identity(config)
    raw_user = ids["user_id"] or (str(deps.default_user_id) if deps.default_user_id else None)
    if raw_user is None:
        raise MissingUser("the run carries no configurable.user_id, so there is nobody to act for")
    try:
        user_id = uuid.UUID(raw_user)
    except ValueError:
        raise MissingUser(f"configurable.user_id {raw_user!r} is not a user id") from None
    return ToolContext(user_id=user_id, thread_id=ids["thread_id"], run_id=ids["run_id"], tool_call_id=tool_call_id,
                       settings=deps.settings, database=deps.database, docusign=deps.docusign,
                       analysis_model=deps.analysis_model, store=store, assistant_id=ids["assistant_id"])


def user_tool_context(deps: Dependencies, user_id: uuid.UUID, tool_call_id: str | None, *,
                      store: BaseStore | None = None) -> ToolContext:
    """A ToolContext for a user outside any run or thread: MCP calls, and held calls a person decides later."""
    return tool_context(deps, {"configurable": {"user_id": str(user_id)}}, tool_call_id, store=store)
