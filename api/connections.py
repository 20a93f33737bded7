"""Slow and greedy clients, stopped where uvicorn reads the socket: a header read timeout, and a limit on the
connections one client address may hold at once.

uvicorn has neither: a client that sends half a request line holds its connection (and a slot of every limit
above it) for as long as it likes, and one address may open any number of them. Both need the connection
itself, before any request exists for an ASGI layer to see, so they live in a subclass of the HTTP protocol
uvicorn would pick (`http=` of `uvicorn.run`, see `http_protocol`). The body read timeout is an ASGI layer
(`api/middleware.py: BodyReadTimeoutMiddleware`): once the headers are in, the app owns the answer.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import orjson
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from docusign_agent.settings import Settings

RETRY_AFTER_SECONDS = 1
END_OF_HEADERS = b"\r\n\r\n"
# A refused connection's request is read only this far (to answer it rather than reset it), then dropped.
MAX_REFUSED_HEAD = 64 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float  # seconds from the connection (or the last response) to a request's complete headers
    max_per_client: int  # open connections per client address; 0: no limit


def http_protocol(settings: Settings) -> Any:
    """What `uvicorn.run(http=...)` takes; picklable, so `--workers` processes get it too."""
    limits = ConnectionLimits(header_timeout=settings.header_read_timeout_seconds,
                              max_per_client=settings.max_connections_per_client)
    return functools.partial(GuardedHttpProtocol, limits=limits)


def raw_response(status: int, reason: str, code: str, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response in the error shape of `api/errors.py`, for answers given before (or instead of)
    the app; each closes the connection."""
    body = orjson.dumps({"error": code, "message": message, "detail": message})
    lines = [f"HTTP/1.1 {status} {reason}", "content-type: application/json", f"content-length: {len(body)}",
             "connection: close", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class GuardedHttpProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with `ConnectionLimits`.

    The header timer runs from the connection's start and again from each response's end; when it fires with
    no request in progress, the next request's headers have not arrived: a client that sent part of them gets
    a 408 and the connection closes; one that sent nothing is closed quietly, as keep-alive would. A connection
    over the client's limit reads its request's headers (so the client sees an answer, not a reset), is
    answered 429 with `Retry-After`, and closes; it never reaches the app.
    """

    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.refused = False
        self._head = b""  # what a refused connection sent
        self._header_timer: asyncio.TimerHandle | None = None
        self._sent_since_armed = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limits.max_per_client
        if limit and self.client is not None:
            host = self.client[0]
            held = sum(1 for c in self.connections if c is not self and not getattr(c, "refused", False)
                       and c.client is not None and c.client[0] == host)
            self.refused = held >= limit
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        self._sent_since_armed = True
        if self.refused:
            self._head += data
            if END_OF_HEADERS in self._head or len(self._head) > MAX_REFUSED_HEAD:
                self._answer_and_close(raw_response(
                    429, "Too Many Requests", "too_many_connections",
                    f"this address already holds {self.limits.max_per_client} connections to the server; close "
                    "some or retry shortly", {"retry-after": str(RETRY_AFTER_SECONDS)}))
            return
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._sent_since_armed = False
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if (self.transport.is_closing() or self.transport.get_protocol() is not self
                or (self.cycle is not None and not self.cycle.response_complete)):
            return  # closed or upgraded already, or a request is being answered (its end re-arms the timer)
        if not self._sent_since_armed:
            self.transport.close()  # idle: nothing to answer
            return
        self._answer_and_close(raw_response(
            408, "Request Timeout", "request_timeout",
            f"the request's headers did not arrive within {self.limits.header_timeout:g} s"))

    def _answer_and_close(self, response: bytes) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()
