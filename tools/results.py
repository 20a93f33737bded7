"""The shape of every tool message: JSON with `summary` on success, `error` + `message` on failure.

Both the model and the offline planner read these, and a person may see them in the UI, so the sentences are
written for people and never carry tokens or stack traces.
"""

from __future__ import annotations

from typing import Any

import orjson


class ToolFailure(Exception):
    """A failure the model should explain: bad argument, unknown template, rejected approval..."""

    def __init__(self, code: str, message: str, *, field: str | None = None, trace_token: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.trace_token = trace_token

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.trace_token:
            body["trace_token"] = self.trace_token
        return body


def ok(summary: str, **data: Any) -> dict[str, Any]:
    return {"summary": summary, **data}


def dumps(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload, default=str).decode()


SECRET_KEYS = {"access_token", "refresh_token", "password", "secret", "api_key", "authorization", "code",
               "private_key", "token", "client_secret"}


def redact(value: Any) -> Any:
    """Arguments as they go into the audit log: secrets replaced, long text cut."""
    if isinstance(value, dict):
        return {k: ("***" if k.lower() in SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + f"... ({len(value)} chars)"
    return value
