"""`/mcp`: this server as an MCP server over streamable HTTP (the official `mcp` SDK's low-level server).

Tools: every agent tool (`api/mcp/tools.py`) and the agent itself (`api/mcp/agent_tool.py`). Resources: the
caller's documents and envelopes (`api/mcp/resources.py`). Every request is authenticated like the rest of the
API (`api/mcp/auth.py`) and acts for that user only.

Both protocol eras the SDK serves are served: the 2025 handshake with sessions (what most desktop clients
speak today) and the 2026-07-28 per-request one. `McpEndpoint` is built per app in `create_app`; its session
manager runs inside the app's lifespan (`McpEndpoint.run`), and its handlers take the app's dependencies from
the request that carried each message, so nothing is global.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.mcp import agent_tool, resources, tools
from api.mcp.approvals import GET_APPROVAL, GET_APPROVAL_TOOL, call_guarded, get_approval
from api.mcp.auth import MCP_PATH, McpAuth, metadata_path, metadata_response, protected_resource_metadata
from api.mcp.context import caller_of
from docusign_agent import __version__
from docusign_agent.settings import Settings
from tools.registry import BY_NAME

INSTRUCTIONS = (
    "DocuSign e-signatures for one person: list, send, track, remind, correct and void envelopes, templates, bulk "
    "sends, document analysis and downloads. Irreversible calls (sending, voiding, correcting, bulk sending, "
    "reminders) wait for the person's own decision. Or ask the agent itself with ask_docusign_agent.")


async def _list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[*tools.TOOLS, agent_tool.TOOL, GET_APPROVAL_TOOL], ttl_ms=0,
                                 cache_scope="public")


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
    caller = caller_of(ctx.request)
    arguments = params.arguments or {}
    if params.name == agent_tool.NAME:
        return tools.result(await agent_tool.ask(caller, arguments))
    if params.name == GET_APPROVAL:
        return await get_approval(caller, arguments)
    spec = BY_NAME.get(params.name)
    if spec is None:
        return tools.failure("unknown_tool", f"There is no tool called {params.name}; list the tools to see them.")
    return await call_guarded(ctx, caller, spec, arguments, params)


async def _list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=await resources.list_resources(caller_of(ctx.request)))


async def _list_templates(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=resources.TEMPLATES, cache_scope="public")


async def _read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    return types.ReadResourceResult(contents=await resources.read_resource(caller_of(ctx.request), params.uri))


def build_server() -> Server[Any]:
    return Server("docusign-agent", version=__version__, title="DocuSign agent", instructions=INSTRUCTIONS,
                  on_list_tools=_list_tools, on_call_tool=_call_tool, on_list_resources=_list_resources,
                  on_list_resource_templates=_list_templates, on_read_resource=_read_resource)


class McpEndpoint:
    """The `/mcp` route (and, with an issuer, its protected-resource metadata) for one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = build_server()
        # Stateful sessions for the handshake era (elicitation needs a session to answer on); the 2026 era is
        # per request whatever this says. No event store: a dropped stream is not replayed, the call is retried.
        self.sessions = StreamableHTTPSessionManager(app=self.server, stateless=False)
        self.asgi = McpAuth(self.sessions.handle_request, settings)

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """The session manager, for as long as the app runs, on a task of its own.

        Its anyio task group must be left by the task that entered it, and an app's lifespan is not always
        entered and left by one task (an async test fixture sets up and tears down in different tasks), so the
        manager lives on its own task, started here and told to stop when the app stops."""
        started, stop = asyncio.Event(), asyncio.Event()

        async def serve() -> None:
            async with self.sessions.run():
                started.set()
                await stop.wait()

        task = asyncio.create_task(serve(), name="mcp-sessions")
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()  # it failed to start: raise why
        try:
            yield
        finally:
            stop.set()
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    def routes(self) -> list[Route]:
        routes = [Route(MCP_PATH, endpoint=self, name="mcp")]
        if protected_resource_metadata(self.settings) is not None:
            async def metadata(_: Any) -> Any:
                return metadata_response(self.settings)

            routes.append(Route(metadata_path(self.settings), endpoint=metadata, methods=["GET"],
                                name="mcp_resource_metadata"))
        return routes
