"""What Postgres can keep: the one rule for text and JSON that any request may hand to the database.

Postgres refuses NUL characters in `text` and `jsonb`, and lone UTF-16 surrogates cannot be encoded as UTF-8 at
all; `bigint` columns, LIMIT/OFFSET and the checkpointer's msgpack stop at 64-bit integers; and `jsonb` keeps a
number such as `-1.79e308` as the exact decimal, which comes back as a 309-digit integer that no JSON encoder of
ours can write. Each of these used to reach the driver and surface as a 500 (or, worse, be stored and break every
later read of the row). Checking here, once, before anything is stored means a caller is told which field to fix
and nothing changes. The HTTP layer applies it to every request; see `api/middleware.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# A float at or beyond 2**63 comes back from `jsonb` as an integer out of the 64-bit range.
FLOAT_LIMIT = float(2**63)
MAX_DEPTH = 200  # deeper JSON is refused rather than walked (Python's own recursion would be next)

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class NotStorable(ValueError):
    """A value Postgres would refuse or mangle; `field` is its dotted path in the request."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, or None."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "text cannot contain NUL characters (\\u0000)"
    return "text cannot contain unpaired UTF-16 surrogates (\\ud800-\\udfff): send valid Unicode"


def number_problem(value: int | float) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return "integers must fit in 64 bits (-9223372036854775808 to 9223372036854775807)"
    if not math.isfinite(value):
        return "numbers must be finite"
    if abs(value) >= FLOAT_LIMIT:
        return "numbers must be smaller in magnitude than 9.2e18 (2**63)"
    return None


def _problems(value: Any, path: list[str], depth: int) -> Iterator[tuple[list[str], str]]:
    if isinstance(value, str):
        reason = text_problem(value)
        if reason:
            yield path, reason
    elif isinstance(value, int | float):
        reason = number_problem(value)
        if reason:
            yield path, reason
    elif depth > MAX_DEPTH:
        yield path, f"JSON may nest at most {MAX_DEPTH} levels deep"
    elif isinstance(value, dict):
        for key, item in value.items():
            key_path = [*path, _printable(str(key))]
            reason = text_problem(key) if isinstance(key, str) else None
            if reason:
                yield key_path, f"keys: {reason}"
            yield from _problems(item, key_path, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _problems(item, [*path, str(index)], depth + 1)


def _printable(key: str) -> str:
    """A key as it can be named in an error (itself JSON): NULs and surrogates written as escapes."""
    return _BAD_TEXT.sub(lambda found: f"\\u{ord(found.group()):04x}", key)


def check_storable(value: Any, field: str = "") -> None:
    """Raise `NotStorable` naming the first offending place in `value` (decoded JSON, or text)."""
    for path, reason in _problems(value, [field] if field else [], 0):
        raise NotStorable(".".join(path) or "body", reason)
