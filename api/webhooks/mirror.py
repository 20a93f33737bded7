"""`GET /v1/envelopes` and `GET /v1/envelopes/{id}`: the user's mirrored envelopes, read under RLS.

Another user's envelope is a 404 exactly like an unknown one. Each envelope carries `synced_at` and
`last_event_at` so a client can say how fresh the mirror is.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import CurrentPrincipal
from api.deps import Db
from api.errors import ApiError
from db import mirror
from docusign_agent.envelope_rules import ENVELOPE_STATUSES

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
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    statuses = _statuses(status)
    async with db.user_session(principal.user_id) as session:
        rows, total = await mirror.list_envelopes(session, statuses=statuses, limit=limit, offset=offset)
    next_offset = offset + len(rows) if offset + len(rows) < total else None
    return {"envelopes": [r.to_json() for r in rows], "total": total, "limit": limit, "offset": offset,
            "next_offset": next_offset}


@router.get("/envelopes/{envelope_id}")
async def get_envelope(db: Db, principal: CurrentPrincipal, envelope_id: str) -> dict[str, Any]:
    async with db.user_session(principal.user_id) as session:
        found = await mirror.get_envelope(session, envelope_id)
    if found is None:
        raise ApiError(404, "not_found", f"envelope {envelope_id} is not in your mirror")
    return found.to_json()
