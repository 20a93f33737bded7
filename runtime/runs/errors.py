"""Why the runs layer refused something, as typed errors the HTTP layer turns into its error shape.

Kept free of HTTP: `api/errors.py` maps each class to a status (404, 409, 422) and answers
`{"error": code, "message": sentence, "field": name}`, so the same refusal reads the same wherever it comes from.
"""

from __future__ import annotations


class RunsError(Exception):
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field


class NotFound(RunsError):
    """The thread, run, assistant or checkpoint does not exist for this user (another user's looks the same)."""

    code = "not_found"


class Conflict(RunsError):
    """The request collides with the thread's or run's current state (busy thread, finished run, taken id)."""

    code = "conflict"


class InvalidRequest(RunsError):
    """The request cannot be carried out as sent (e.g. resuming a thread that never stopped)."""
