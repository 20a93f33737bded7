"""`GET /v1/envelopes` and `GET /v1/envelopes/{id}`: the user's mirrored envelopes, read under RLS; their signed
documents through our server; and `GET /v1/bulk`, the user's bulk sends with their progress.

Another user's envelope is a 404 exactly like an unknown one. Each envelope carries `synced_at` and
`last_event_at` so a client can say how fresh the mirror is. Drafts (status `created`) are in the mirror from
the moment the agent saves them.
"""

from __future__ import annotations

from typing import Annotated, Any

import re

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from api.auth import CurrentPrincipal
from api.deps import Db
from api.errors import ApiError
from api.params import OffsetQuery
from api.responses import attachment
from db import mirror
from db.models import BulkOperation
from docusign_agent.envelope_rules import ENVELOPE_STATUSES
from docusign_client.errors import DocuSignError

router = APIRouter(prefix="/v1", tags=["v1"])


def _statuses(raw: list[str] | None) -> list[str] | None:
    if not raw:
        return None
    wanted = [part.strip().lower() for item in raw for part in item.split(",") if part.strip()]
    unknown = [s for s in wanted if s not in ENVELOPE_STATUSES]
    if unknown:
        raise ApiError(422, "invalid_request", f"status: {', '.join(unknown)} is not an envelope status "
                       f"(one of {', '.join(ENVELOPE_STATUSES)})", field="status")
    return wanted or None


@router.get("/envelopes")
async def list_envelopes(
    db: Db,
    principal: CurrentPrincipal,
    status: Annotated[list[str] | None, Query(description="Status filter; repeat or comma-separate")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    statuses = _statuses(status)
    async with db.user_session(principal.user_id) as session:
        rows, total = await mirror.list_envelopes(session, statuses=statuses, limit=limit, offset=offset)
    next_offset = offset + len(rows) if offset + len(rows) < total else None
    return {"envelopes": [r.to_json() for r in rows], "total": total, "limit": limit, "offset": offset,
            "next_offset": next_offset}


DOWNLOADS = {"combined": "signed", "certificate": "certificate"}


@router.get("/envelopes/{envelope_id}/documents/{kind}", summary="The combined signed PDF or the certificate")
async def download(request: Request, db: Db, principal: CurrentPrincipal, envelope_id: str, kind: str) -> Response:
    """Fetched from DocuSign as this user (a browser never holds DocuSign tokens), for an envelope in their mirror."""
    if kind not in DOWNLOADS:
        raise ApiError(422, "invalid_request", f"kind: {kind!r} is not one of {', '.join(DOWNLOADS)}", field="kind")
    async with db.user_session(principal.user_id) as session:
        found = await mirror.get_envelope(session, envelope_id)
    if found is None:
        raise ApiError(404, "not_found", f"envelope {envelope_id} is not in your mirror")
    client = await request.app.state.docusign_clients.for_user(principal.user_id)
    try:
        content = (await client.get_document(envelope_id, kind)).value
    except DocuSignError as exc:
        raise ApiError(502 if exc.status is None or exc.status >= 500 else 409, "docusign_error",
                       exc.user_message) from None
    title = re.sub(r"[^\w .,()-]+", "", found.email_subject or "") or f"envelope {envelope_id[:8]}"
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": attachment(f"{title.strip()} - {DOWNLOADS[kind]}.pdf"),
        "Cache-Control": "private, no-store"})


@router.get("/bulk", summary="Your bulk sends, newest first, with their progress")
async def list_bulk(db: Db, principal: CurrentPrincipal,
                    limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    async with db.user_session(principal.user_id) as session:
        rows = (await session.execute(select(BulkOperation).order_by(BulkOperation.created_at.desc())
                                      .limit(limit))).scalars().all()
    return {"bulk_sends": [bulk_json(r) for r in rows]}


def bulk_json(row: BulkOperation) -> dict[str, Any]:
    counters = {k: getattr(row, k) for k in BULK_COUNTERS}
    done = row.sent + row.failed
    return {"id": str(row.id), "batch_id": row.batch_id, "batch_name": row.batch_name, "status": row.status,
            **counters, "progress": round(min(1.0, done / row.total), 4) if row.total else 1.0,
            "error": row.error, "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


BULK_COUNTERS = ("total", "queued", "sent", "delivered", "completed", "declined", "voided", "failed")


@router.get("/envelopes/{envelope_id}")
async def get_envelope(db: Db, principal: CurrentPrincipal, envelope_id: str) -> dict[str, Any]:
    async with db.user_session(principal.user_id) as session:
        found = await mirror.get_envelope(session, envelope_id)
    if found is None:
        raise ApiError(404, "not_found", f"envelope {envelope_id} is not in your mirror")
    return found.to_json()
