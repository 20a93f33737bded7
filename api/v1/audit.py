"""`/v1/audit`: your audit trail, read-only: every tool call, approved or not, with its outcome and the DocuSign
trace token of the call that did the work.

It lets a person (or the eval suite) check what the agent really did, and match each DocuSign request to the
tool call and the decision behind it. Rows are the user's own (RLS), newest first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from api.auth import CurrentPrincipal
from api.deps import Db
from api.responses import json_response
from db.models import AuditLog

router = APIRouter(prefix="/v1", tags=["v1"])


def _row_json(row: AuditLog) -> dict[str, Any]:
    return {
        "id": row.id, "actor": row.actor, "operation": row.operation, "status": row.status,
        "envelope_id": row.envelope_id, "thread_id": row.thread_id, "run_id": row.run_id,
        "tool_call_id": row.tool_call_id, "arguments": row.arguments, "outcome": row.outcome,
        "error_code": row.error_code, "error_message": row.error_message,
        "docusign_trace_token": row.docusign_trace_token,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "duration_ms": row.duration_ms,
    }


@router.get("/audit", summary="Your audit trail, newest first (filter by thread, envelope or operation)")
async def list_audit(principal: CurrentPrincipal, db: Db,
                     thread_id: Annotated[str | None, Query(max_length=64)] = None,
                     envelope_id: Annotated[str | None, Query(max_length=64)] = None,
                     operation: Annotated[str | None, Query(max_length=100)] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    query = select(AuditLog).order_by(AuditLog.started_at.desc(), AuditLog.id.desc()).limit(limit)
    for column, value in ((AuditLog.thread_id, thread_id), (AuditLog.envelope_id, envelope_id),
                          (AuditLog.operation, operation)):
        if value is not None:
            query = query.where(column == value)
    async with db.user_session(principal.user_id) as session:
        rows = (await session.execute(query)).scalars()
        return json_response([_row_json(r) for r in rows])
