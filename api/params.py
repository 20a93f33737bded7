"""Parsing path and query parameters the framework leaves as strings, with the error shape of every route."""

from __future__ import annotations

import uuid

from api.errors import ApiError


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ApiError(422, "invalid_request", f"{field} must be a UUID, got {value!r}", field=field) from None
