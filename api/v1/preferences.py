"""`/v1/preferences`: how the agent talks to this user and what it asks before doing."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update

from api.auth import CurrentPrincipal
from api.deps import Db
from api.errors import ApiError
from api.responses import json_response
from db import profiles
from db.models import UserPreferences
from runtime.runs.schemas import Bool, Int

router = APIRouter(prefix="/v1", tags=["v1"])


class PreferencesUpdate(BaseModel):
    """Only the fields sent change; an invalid value is a 422 naming it, and nothing is written."""

    model_config = ConfigDict(extra="forbid")
    theme: Literal["system", "light", "dark"] | None = None
    notify_in_app: Bool | None = None
    notify_email_on_completed: Bool | None = None
    notify_email_on_declined: Bool | None = None
    tone: Literal["concise", "friendly", "formal"] | None = None
    verbosity: Literal["brief", "normal", "detailed"] | None = None
    confirm_reminders: Bool | None = None
    default_signing_order: Literal["parallel", "sequential"] | None = None
    reminder_days: Int | None = Field(default=None, ge=1, le=999)


PREFERENCE_FIELDS = list(PreferencesUpdate.model_fields)


def _preferences_json(row: UserPreferences) -> dict[str, Any]:
    body = {name: getattr(row, name) for name in PREFERENCE_FIELDS}
    body["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return body


async def _preferences(session: Any, user_id: uuid.UUID) -> UserPreferences:
    row = await session.get(UserPreferences, user_id)
    if row is None:
        await profiles.ensure_profile(session, user_id, None)
        row = await session.get(UserPreferences, user_id)
    return row  # type: ignore[no-any-return]


@router.get("/preferences", summary="Your preferences")
async def get_preferences(principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        return json_response(_preferences_json(await _preferences(session, principal.user_id)))


@router.put("/preferences", summary="Change your preferences (send only what changes)")
async def put_preferences(body: PreferencesUpdate, principal: CurrentPrincipal, db: Db) -> Response:
    changes = body.model_dump(exclude_unset=True)
    nullable = {"reminder_days"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise ApiError(422, "invalid_request", f"{name}: may not be null", field=name)
    async with db.user_session(principal.user_id) as session:
        await _preferences(session, principal.user_id)
        if changes:
            await session.execute(update(UserPreferences).where(UserPreferences.user_id == principal.user_id)
                                  .values(**changes))
        row = await session.get(UserPreferences, principal.user_id, populate_existing=True)
        return json_response(_preferences_json(row))  # type: ignore[arg-type]
