"""Recovering a thread whose run died mid-tool: every unanswered tool call gets a reply, every unfinished audit
row is marked `interrupted`.

Called by the run worker when it sweeps a run whose process stopped heartbeating, and by the executor before a
run of the agent starts on a thread that still has unfinished calls (whichever comes first; a per-thread
advisory lock makes the other a no-op). The replies (`tools.recovery`) are written as the tool node's output
(`aupdate_state(..., as_node="tools")`), so the thread reads as if the node had answered: the next turn goes to
the model, which sees what is known, and the calls are never executed again.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from sqlalchemy import text

from agent.context import Dependencies, tool_context
from db import audit
from tools.recovery import recover_call
from tools.registry import BY_NAME
from tools.results import dumps

log = logging.getLogger(__name__)

THREAD_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"
# Another run executing on the thread owns its state (and its own `started` calls): leave both to it.
OTHER_RUN_EXECUTING = ("SELECT EXISTS (SELECT 1 FROM runs WHERE thread_id = :t AND status = 'running' "
                       "AND run_id IS DISTINCT FROM :current)")


def unanswered_calls(messages: list[Any]) -> list[dict[str, Any]]:
    """The tool calls of the last AI message that no tool message answers."""
    last = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if last is None or not last.tool_calls:
        return []
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return [c for c in last.tool_calls if c["id"] not in answered]


async def recover_thread(graph: Any, deps: Dependencies, user_id: uuid.UUID, thread_id: uuid.UUID, *,
                         current_run: uuid.UUID | None = None, read_state: bool = True) -> int:
    """Answer what a dead run left unanswered on `thread_id`; returns how many calls were answered.
    `current_run`: the run about to start here (its own calls are not a dead run's). `read_state=False` looks
    at the thread's state only when an audit row is unfinished (the cheap check before every run)."""
    tid = str(thread_id)
    async with deps.database.user_session(user_id) as session:
        await session.execute(text(THREAD_LOCK), {"key": f"recover:{tid}"})
        if (await session.execute(text(OTHER_RUN_EXECUTING), {"t": thread_id, "current": current_run})).scalar():
            return 0
        rows = await audit.unfinished(session, tid, except_run=str(current_run) if current_run else None)
        if not rows and not read_state:
            return 0
        config: dict[str, Any] = {"configurable": {"thread_id": tid}}
        snapshot = await graph.aget_state(config)
        calls = unanswered_calls(list((snapshot.values or {}).get("messages") or []))
        by_call = {row.tool_call_id: row for row in rows}
        replies: list[ToolMessage] = []
        for call in calls:
            row = by_call.pop(call["id"], None)
            run_id = row.run_id if row is not None else None
            ctx = tool_context(deps, {"configurable": {"user_id": str(user_id), "thread_id": tid, "run_id": run_id}},
                               call["id"])
            found = await recover_call(ctx, BY_NAME.get(call["name"]), row)
            if row is not None:
                await audit.interrupted(session, row, message=found.audit_message,
                                        outcome={"summary": found.payload.get("summary")}
                                        if "error" not in found.payload else None,
                                        envelope_id=found.envelope_id)
            replies.append(ToolMessage(dumps(found.payload), tool_call_id=call["id"], name=call["name"],
                                       status="error" if "error" in found.payload else "success"))
        for row in by_call.values():  # started, but its call is answered or gone from the thread (a rollback)
            await audit.interrupted(session, row, message="the server stopped during this call")
        if replies:
            await graph.aupdate_state(config, {"messages": replies}, as_node="tools")
            log.warning("thread %s: %d tool call(s) left unanswered by a stopped run were answered", tid, len(replies))
    return len(replies)
