"""Parsing path and query parameters the framework leaves as strings, with the error shape of every route."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from api.errors import ApiError
from db.storable import INT64_MAX
from runtime.bus import EventBus, InvalidEventId, check_event_id

# `?offset=`: where a page starts, any 64-bit offset (Postgres' OFFSET is a bigint; beyond it was a 500).
OffsetQuery = Annotated[int, Query(ge=0, le=INT64_MAX)]


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ApiError(422, "invalid_request", f"{field} must be a UUID, got {value!r}", field=field) from None


def check_last_event_id(bus: EventBus, last_event_id: str) -> None:
    try:
        check_event_id(bus, last_event_id)
    except InvalidEventId:
        raise ApiError(400, "invalid_request", f"Last-Event-ID {last_event_id!r} is not an event id of this server",
                       field="Last-Event-ID") from None
