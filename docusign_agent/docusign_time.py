"""DocuSign's date-time format, read and written the same way by the client, the Connect worker and the emulator.

DocuSign prints UTC with seven fractional digits and a `Z` (`2025-03-01T10:00:00.1234567Z`) and accepts ISO
8601 (and bare dates) in queries; Python reads at most six fractional digits, so the seventh is dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def format_time(moment: dt.datetime | None = None) -> str:
    """`moment` (default: now) as DocuSign prints it."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_time(text: str) -> dt.datetime:
    """A DocuSign time, ISO 8601 time or bare date as an aware UTC datetime; ValueError if it is none of them."""
    cleaned = text.strip().replace(" ", "T")
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    if "." in cleaned:
        head, _, tail = cleaned.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        cleaned = f"{head}.{tail[:digits][:6].ljust(6, '0')}{tail[digits:]}"
    moment = dt.datetime.fromisoformat(cleaned)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def parse_time_or_none(value: Any) -> dt.datetime | None:
    """`parse_time` for untrusted input (a Connect body's field): None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None
