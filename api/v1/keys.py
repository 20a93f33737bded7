"""`/v1/api-keys`: keys for programs, shown once and stored as hashes."""

from __future__ import annotations

import uuid

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from api.auth import CurrentPrincipal
from api.deps import Db
from api.errors import ApiError
from api.responses import json_response
from db import profiles
from db.models import ApiKey

router = APIRouter(prefix="/v1", tags=["v1"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


def _key_json(row: ApiKey) -> dict[str, Any]:
    return {
        "id": str(row.id), "name": row.name, "prefix": row.prefix,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


@router.post("/api-keys", status_code=201, summary="Create an API key (the key is shown once)")
async def create_api_key(body: ApiKeyCreate, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row, key = await profiles.create_api_key(session, principal.user_id, body.name.strip())
        await session.refresh(row)
        return json_response({**_key_json(row), "key": key}, status_code=201)


@router.get("/api-keys", summary="Your API keys (never the keys themselves)")
async def list_api_keys(principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        rows = (await session.execute(select(ApiKey).order_by(ApiKey.created_at.desc()))).scalars()
        return json_response([_key_json(r) for r in rows])


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(key_id: uuid.UUID, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        result = await session.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC)))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise ApiError(404, "not_found", "API key not found", field="key_id")
    return Response(status_code=204)
