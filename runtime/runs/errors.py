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


def thread_id_unavailable(thread_id: object) -> Conflict:
    """The one answer for a thread id the caller cannot have: another user's thread, or a reserved id. It is the
    same in both cases, so it never tells whether someone else has a thread by that id."""
    return Conflict(f"thread_id {thread_id} cannot be used; leave thread_id out and the server picks a new one",
                    code="thread_id_unavailable", field="thread_id")


class InvalidRequest(RunsError):
    """The request cannot be carried out as sent (e.g. resuming a thread that never stopped)."""
