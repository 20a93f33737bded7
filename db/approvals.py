"""The approval record: what a person was asked about a tool call, what they decided, and whether it was used.

One home for the rule that ties a decision to a call: a row is keyed by (user, thread, tool call id) and
carries the digest of the exact arguments it is about (`digest`: SHA-256 of canonical JSON). The approval gate
records a pending row when it asks (`asked`), the decision when the person's answer arrives (`decide`: the
arguments after edits), and the tool node takes an approval at most once, atomically, before it acts
(`consume`): no row, another decision, other arguments or a row already used means the call is not approved.
Graph state a client can write plays no part. Every function takes a session from
`Database.user_session(user_id)`, so RLS confines it to that user's rows.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Approval

UNIQUE = "uq_approvals_user_id_thread_id_tool_call_id"


def digest(args: Mapping[str, Any]) -> str:
    """SHA-256 of the arguments as canonical JSON (sorted keys, no spaces), hex."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _call(user_id: uuid.UUID, thread_id: str | None, tool_call_id: str) -> list[Any]:
    return [Approval.user_id == user_id, Approval.thread_id.is_not_distinct_from(thread_id),
            Approval.tool_call_id == tool_call_id]


async def asked(session: AsyncSession, *, user_id: uuid.UUID, thread_id: str | None, tool_call_id: str,
                tool_name: str, args: Mapping[str, Any], source: str) -> None:
    """A person is being asked about this call with these arguments: the row is pending again (any earlier
    decision on the same id is withdrawn), unless the call was already carried out, which stays on record."""
    values = {"tool_name": tool_name, "args": dict(args), "args_digest": digest(args), "decision": None,
              "decided_at": None}
    stmt = insert(Approval).values(user_id=user_id, thread_id=thread_id, tool_call_id=tool_call_id, source=source,
                                   **values)
    await session.execute(stmt.on_conflict_do_update(constraint=UNIQUE, set_=values,
                                                     where=Approval.consumed_at.is_(None)))


async def pending_digests(session: AsyncSession, *, user_id: uuid.UUID, thread_id: str | None,
                          tool_call_ids: Iterable[str]) -> dict[str, str | None]:
    """For each call id: the digest of the arguments a person was shown and has not yet answered, or None when
    the call was already decided or used. Ids never asked about are missing."""
    rows = await session.execute(
        select(Approval.tool_call_id, Approval.args_digest, Approval.decision, Approval.consumed_at).where(
            Approval.user_id == user_id, Approval.thread_id.is_not_distinct_from(thread_id),
            Approval.tool_call_id.in_(list(tool_call_ids))))
    return {r.tool_call_id: r.args_digest if r.decision is None and r.consumed_at is None else None for r in rows}


async def decide(session: AsyncSession, *, user_id: uuid.UUID, thread_id: str | None, tool_call_id: str,
                 decision: str, args: Mapping[str, Any]) -> bool:
    """Record a person's decision and the exact arguments it covers (the edited ones after an edit). False
    when there is no unused row for the call (nobody was asked, or it was already carried out)."""
    stmt = (update(Approval)
            .where(*_call(user_id, thread_id, tool_call_id), Approval.consumed_at.is_(None))
            .values(decision=decision, args=dict(args), args_digest=digest(args), decided_at=func.now())
            .returning(Approval.id))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def consume(session: AsyncSession, *, user_id: uuid.UUID, thread_id: str | None, tool_call_id: str,
                  args: Mapping[str, Any]) -> bool:
    """Take the approval of exactly this call with exactly these arguments, once. True means go ahead."""
    stmt = (update(Approval)
            .where(*_call(user_id, thread_id, tool_call_id), Approval.args_digest == digest(args),
                   Approval.decision == "approved", Approval.consumed_at.is_(None))
            .values(consumed_at=func.now())
            .returning(Approval.id))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


# --- calls held outside a thread (an MCP client's), decided later by the person ------------------------------


async def hold(session: AsyncSession, *, user_id: uuid.UUID, tool_call_id: str, tool_name: str,
               args: Mapping[str, Any], source: str) -> Approval:
    """A new pending row for a call that waits outside any thread until the person decides on it."""
    row = Approval(user_id=user_id, thread_id=None, tool_call_id=tool_call_id, tool_name=tool_name,
                   args=dict(args), args_digest=digest(args), source=source)
    session.add(row)
    await session.flush()
    return row


async def held(session: AsyncSession, approval_id: uuid.UUID) -> Approval | None:
    """One held call by id (the session's user's), or None."""
    stmt = select(Approval).where(Approval.id == approval_id, Approval.thread_id.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_held(session: AsyncSession, *, pending: bool, limit: int = 50) -> list[Approval]:
    """Held calls, newest first: only those still waiting for a decision when `pending`."""
    stmt = select(Approval).where(Approval.thread_id.is_(None))
    if pending:
        stmt = stmt.where(Approval.decision.is_(None), Approval.consumed_at.is_(None))
    return list((await session.execute(stmt.order_by(Approval.created_at.desc()).limit(limit))).scalars())


async def decide_held(session: AsyncSession, approval_id: uuid.UUID, decision: str) -> Approval | None:
    """The person's decision on a held call that is still waiting; None when it is not (unknown, or already
    decided: of two decisions racing, exactly one gets the row)."""
    stmt = (update(Approval)
            .where(Approval.id == approval_id, Approval.thread_id.is_(None), Approval.decision.is_(None),
                   Approval.consumed_at.is_(None))
            .values(decision=decision, decided_at=func.now())
            .returning(Approval))
    return (await session.execute(stmt)).scalar_one_or_none()
