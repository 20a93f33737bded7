"""Tool calls held for a person's decision outside any conversation (an MCP client's irreversible calls).

A held call is an `approvals` row with no thread and no decision (`db.approvals.hold`), and an `audit_log` row
`awaiting_approval`. The person decides once (`decide`: of two decisions racing, one wins and the other is
refused); on approval the call is consumed (`db.approvals.consume`, exactly these arguments, once) and run
through the one `execute` path with the call's own tool call id, so its audit row sits beside the hold's. A
rejection runs nothing. Nobody but the person's own decision moves a held call: the calling model only ever
creates one.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from db import approvals, audit
from db.models import Approval
from tools.base import ToolSpec, execute
from tools.context import ToolContext
from tools.registry import BY_NAME
from tools.results import redact


class NotHeld(Exception):
    """No held call has this id for this user."""


class AlreadyDecided(Exception):
    def __init__(self, approval: Approval) -> None:
        # Read now: leaving the transaction by this exception rolls it back, which expires the row.
        self.decision = approval.decision or "carried out"
        super().__init__(f"approval {approval.id} was already {self.decision}")


@dataclass(frozen=True)
class Decided:
    approval: Approval
    result: dict[str, Any] | None  # the tool's payload when it ran (approved), None when rejected


async def hold(ctx: ToolContext, spec: ToolSpec, args: dict[str, Any], *, source: str) -> Approval:
    """Hold the call (under `ctx.tool_call_id`) until the person decides; audited as awaiting approval."""
    assert ctx.tool_call_id is not None
    envelope_id = args.get("envelope_id")
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await approvals.hold(session, user_id=ctx.user_id, tool_call_id=ctx.tool_call_id, tool_name=spec.name,
                                   args=args, source=source)
        await audit.start(session, user_id=ctx.user_id, actor="agent", operation=spec.name, arguments=redact(args),
                          status="awaiting_approval", tool_call_id=ctx.tool_call_id,
                          envelope_id=envelope_id if isinstance(envelope_id, str) else None)
    return row


async def decide(ctx: ToolContext, approval_id: uuid.UUID, *, approve: bool, via: str,
                 message: str | None = None) -> Decided:
    """The person's decision on a held call (`via` says where they gave it: elicitation, chat, api). Raises
    NotHeld or AlreadyDecided, changing nothing, when the call is unknown or no longer waiting."""
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await approvals.decide_held(session, approval_id, "approved" if approve else "rejected")
        if row is None:
            existing = await approvals.held(session, approval_id)
            if existing is None:
                raise NotHeld(f"there is no held call {approval_id}")
            raise AlreadyDecided(existing)
        taken = approve and await approvals.consume(session, user_id=ctx.user_id, thread_id=None,
                                                    tool_call_id=row.tool_call_id, args=row.args)
        if taken:
            await audit.settle_awaiting(session, tool_call_id=row.tool_call_id, status="succeeded",
                                        outcome={"summary": f"Approved by the person ({via}); the call ran."})
        else:
            reason = f": {message}" if message else "."
            await audit.settle_awaiting(session, tool_call_id=row.tool_call_id, status="rejected",
                                        error_code="rejected", error_message=f"Rejected by the person ({via}){reason}")
    if not taken:
        return Decided(row, None)
    call_ctx = dataclasses.replace(ctx, tool_call_id=row.tool_call_id)
    return Decided(row, await execute(BY_NAME[row.tool_name], dict(row.args), call_ctx))


async def outcome(ctx: ToolContext, row: Approval) -> dict[str, Any] | None:
    """What the held call did once it ran (its audit row's outcome), for whoever checks on it later."""
    async with ctx.database.user_session(ctx.user_id) as session:
        rows = await audit.for_call(session, row.tool_call_id)
    if len(rows) < 2:  # only the hold itself: the call has not run
        return None
    entry = rows[-1]
    return {"status": entry.status, "summary": (entry.outcome or {}).get("summary"), "envelope_id": entry.envelope_id,
            "error": entry.error_code, "message": entry.error_message}
