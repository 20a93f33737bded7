"""What one MCP request acts with: the authenticated caller and the app's dependencies, read per request.

Every MCP handler gets the Starlette request that carried its message; the caller was put in its state by
`McpAuth`, and the app (the FastAPI app the transport is mounted on) holds the database, the run context's
dependencies and the runs runtime on `app.state`, set by its lifespan. So nothing is looked up in a module,
and two apps in one process each serve their own users.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.requests import Request

from agent.context import Dependencies, user_tool_context
from api.auth import Principal
from api.mcp.auth import principal_of
from db.session import Database
from docusign_agent.settings import Settings
from runtime.bus import EventBus
from runtime.runs.process import AgentRuntime
from tools.context import ToolContext


@dataclass(frozen=True)
class McpCaller:
    principal: Principal
    dependencies: Dependencies
    runtime: AgentRuntime
    state_key: bytes  # seals held-call ids sent as requestState (api/mcp/approvals.py)
    bus: EventBus  # tells the person's open pages about held calls

    @property
    def user_id(self) -> uuid.UUID:
        return self.principal.user_id

    @property
    def database(self) -> Database:
        return self.dependencies.database

    @property
    def settings(self) -> Settings:
        return self.dependencies.settings

    def tool_context(self, tool_call_id: str) -> ToolContext:
        """The same ToolContext the agent's tool node builds, for this user, outside any thread."""
        return user_tool_context(self.dependencies, self.user_id, tool_call_id,
                                 store=self.runtime.store_for(self.user_id))


def caller_of(request: Request | None) -> McpCaller:
    principal = principal_of(request)
    assert request is not None
    state = request.app.state
    return McpCaller(principal=principal, dependencies=state.dependencies, runtime=state.runtime,
                     state_key=state.mcp_state_key, bus=state.bus)
