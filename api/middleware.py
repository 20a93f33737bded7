"""ASGI middleware: request ids for logs, body size limits and read timeouts, and storable input, all before a
handler runs.

Pure ASGI (not `BaseHTTPMiddleware`) so streaming responses pass through untouched and a disconnect still
reaches the SSE handlers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.storable import NotStorable, check_storable, text_problem
from docusign_agent.logs import request_id_var

log = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Takes `X-Request-Id` from the client (or makes one), exposes it to logs, and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:100]
        request_id = incoming or uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class TrackedSend:
    """A `send` that remembers whether the response has started: after that, no error can be answered."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class ServerErrorMiddleware:
    """Any exception no handler answered becomes a 500 in the error shape, logged as one JSON line.

    Starlette's own last resort answers plain text and re-raises, so the server logs a multi-line traceback
    outside our JSON logs; this one, just inside the request id, answers JSON naming the request id a person can
    quote, logs with that id, and does not re-raise. If the response had already started (a stream), the
    connection is closed and the failure logged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error("unhandled error answering %s %s", scope["method"], scope.get("path", ""), exc_info=exc,
                      extra={"status": 500, "response_started": tracked.started})
            if not tracked.started:
                request_id = request_id_var.get()
                await send_error(send, 500, "internal_error", "the server failed to answer this request; it has "
                                 f"been logged as request {request_id}: quote that id when reporting it")


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing re-raises it as is (it turns other errors into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with a 413 JSON body, by Content-Length or while streaming a chunked body.

    `limits` are (path prefix or compiled pattern, bytes) pairs checked in order before the default, e.g. uploads
    get more room.
    """

    def __init__(self, app: ASGIApp, default_limit: int, limits: Sequence[tuple[str | re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = list(limits)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix) if isinstance(prefix, str) else prefix.match(path):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except BodyTooLarge:
            if not tracked.started:
                await _too_large(send, limit)


class BodyReadTimeout(HTTPException):
    """An HTTPException for the same reason as `BodyTooLarge`; it closes the connection, whose unread rest of
    a body could not be told from the next request."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, f"the request body stopped arriving: nothing came for {timeout:g} s",
                         headers={"connection": "close"})


class BodyReadTimeoutMiddleware:
    """A request body that pauses longer than `timeout` (between any two of its parts) is answered 408 JSON
    naming `body`, and the connection closed; nothing is handled with half a body. Only the body is timed: once
    it is complete, `receive` (which an SSE response awaits for the client's disconnect) is left as it is.
    The header read timeout is uvicorn's side of the connection (`api/connections.py`).
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise BodyReadTimeout(self.timeout) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, timed_receive, tracked)
        except BodyReadTimeout as exc:
            if not tracked.started:
                await send_error(send, 408, "request_timeout", str(exc.detail), "body", [(b"connection", b"close")])


async def _too_large(send: Send, limit: int) -> None:
    message = f"the request body is larger than the limit of {limit} bytes"
    await send_error(send, 413, "payload_too_large", message, "body")


async def send_error(send: Send, status: int, code: str, message: str, field: str | None = None,
                     headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """The error shape of `api/errors.py`, for answers given before any route runs."""
    body: dict[str, Any] = {"error": code, "message": message, "detail": message}
    if field:
        body["field"] = field
    raw = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": raw})


JSON_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class StorableInputMiddleware:
    """Refuses, as a 422 naming the field, a query value or JSON body that Postgres could not store.

    The rule is `db/storable.py`'s (no NUL, no lone surrogates, 64-bit integers, numbers `jsonb` gives back
    intact); applying it here, to every request before routing, means no route can forget it and a refused
    request has touched nothing. JSON bodies are read whole (FastAPI would read them whole anyway), checked, and
    handed on unchanged; later `receive` calls (a disconnect during an SSE stream) reach the server as before.
    Paths under `skip` (the DocuSign emulator, which stands in for DocuSign's own validation) pass untouched.
    """

    def __init__(self, app: ASGIApp, skip: Sequence[str] = ()) -> None:
        self.app = app
        self.skip = tuple(skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.skip):
            await self.app(scope, receive, send)
            return
        problem = _query_problem(scope.get("query_string", b""))
        if problem is None and scope["method"] in JSON_METHODS and _is_json(scope):
            body, receive = await _read_body(receive)
            problem = _body_problem(body)
        if problem is not None:
            field, reason = problem
            await send_error(send, 422, "invalid_request", f"{field}: {reason}", field)
            return
        await self.app(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    """FastAPI parses a body as JSON when it says so, or says nothing."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return not content_type or content_type == b"application/json" or content_type.endswith(b"+json")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it as it would have
            return b"", _replay([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _query_problem(raw: bytes) -> tuple[str, str] | None:
    # Decoded as Starlette decodes it, so the check sees what a route would get.
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if reason := text_problem(name):
            return "query", f"parameter names: {reason}"
        if reason := text_problem(value):
            return name, reason
    return None


def _body_problem(body: bytes) -> tuple[str, str] | None:
    if not body.strip():
        return None
    try:
        value = orjson.loads(body)  # fast; refuses lone surrogates and NaN, which Python's json accepts
    except orjson.JSONDecodeError:
        try:
            value = json.loads(body)  # what FastAPI parses with: if this fails too, FastAPI answers the 422
        except RecursionError:
            return "body", "JSON nests too deeply"
        except UnicodeDecodeError:  # FastAPI would answer a bare 400 "error parsing the body"
            return "body", "is not JSON: JSON text must be UTF-8"
        except ValueError:
            return None
    try:
        check_storable(value)
    except NotStorable as exc:
        return exc.field, exc.reason
    return None
