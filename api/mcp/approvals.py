"""Tool calls over MCP that need a person's decision.

Which calls need one is the spec's rule (`ToolSpec.needs_approval`, with the user's reminder setting), as in
the chat. Such a call is first checked exactly as the chat's gate checks it (`tools.base.check`: the schema and
the tool's precheck), so a call that can only fail is answered with its error and nobody is asked.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from api.mcp.context import McpCaller
from api.mcp.tools import audit_refusal, failure, result, run
from tools.base import ToolSpec, check
from tools.common import preferences
from tools.results import ToolFailure


async def call_guarded(ctx: Any, caller: McpCaller, spec: ToolSpec, args: dict[str, Any],
                       params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
    prefs = await preferences(caller.tool_context("mcp-preferences"))
    if not spec.needs_approval(args, confirm_reminders=prefs.confirm_reminders):
        return result(await run(caller, spec, args))
    try:
        await check(spec, args, caller.tool_context("mcp-check"))
    except ToolFailure as exc:
        await audit_refusal(caller, spec, args, status="failed")
        return result({**exc.payload(), "message": f"{exc.message} Nothing was done and nobody was asked to "
                       "approve it."})
    await audit_refusal(caller, spec, args, status="failed")
    return failure("not_approved", f"{spec.name} needs the person's approval, which this server cannot ask for over "
                   "MCP yet; nothing was done. Ask them to do it in the chat page.")
