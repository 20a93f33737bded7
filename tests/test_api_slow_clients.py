"""Slow and greedy clients over real sockets, against the app served as `serve` serves it (uvicorn with
`api.connections.http_protocol`): half a request's headers is a 408 and a closed connection, a body that stops
arriving is a 408 JSON naming `body` with nothing stored, and one address holding too many connections gets a
429 with `Retry-After` for the next one, which then closes.

Before these limits, each of these clients held its connection with no answer for as long as it liked (15 s and
more were measured); the reads below wait up to a minute for the answer, and the limits are a second or two.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest

from api.connections import http_protocol
from docusign_agent.settings import Settings
from tests.api_helpers import ApiServer, role_urls, runtime_options
from tests.servers import ServerThread, free_port, wait_until

MAX_PER_CLIENT = 2
ANSWER_WITHIN = 60.0  # generous: the server's limits are 1-2 s; without them no answer ever comes


@pytest.fixture(scope="module")
def guarded(settings: Settings) -> Iterator[ApiServer]:
    from api.app import create_app

    port = free_port()
    settings = settings.model_copy(update={"port": port, "header_read_timeout_seconds": 1.0,
                                           "body_read_timeout_seconds": 1.0,
                                           "max_connections_per_client": MAX_PER_CLIENT})
    app = create_app(settings, role_urls(settings.database_url),  # type: ignore[arg-type]
                     runtime_options=runtime_options())
    with ServerThread(app, port, http=http_protocol(settings)) as server:
        yield ApiServer(url=server.url, settings=settings)


def _connect(server: ApiServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.settings.port), timeout=ANSWER_WITHIN)
    sock.settimeout(ANSWER_WITHIN)
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a socket timeout fails the test)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _head_and_body(raw: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, orjson.loads(body)


def _request(server: ApiServer, method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {server.token()}",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _thread_count(server: ApiServer) -> int:
    async with server.http() as http:
        return int((await http.post("/threads/count", json={})).json())


def test_half_a_request_head_is_answered_408_and_closed(guarded: ApiServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Still-Typing: ye")
        status, headers, body = _head_and_body(_until_closed(sock))
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close" and headers["content-type"] == "application/json"
    assert body["error"] == "request_timeout" and "headers" in str(body["message"])


def test_a_connection_that_sends_nothing_is_closed(guarded: ApiServer) -> None:
    with _connect(guarded) as sock:
        assert _until_closed(sock) == b""  # closed quietly, as keep-alive closes an idle connection


async def test_a_body_that_stops_arriving_is_answered_408_and_nothing_is_stored(guarded: ApiServer) -> None:
    before = await _thread_count(guarded)
    with _connect(guarded) as sock:
        sock.sendall(_request(guarded, "POST", "/threads", b'{"m', content_type="application/json",
                              content_length="100"))  # 3 of the 100 bytes it declares
        status, headers, body = _head_and_body(_until_closed(sock))
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert body["error"] == "request_timeout" and body["field"] == "body"
    assert await _thread_count(guarded) == before


def test_a_complete_slow_request_is_answered(guarded: ApiServer) -> None:
    """The limits stop clients that stall, not requests: one that finishes in time is answered as usual."""
    with _connect(guarded) as sock:
        sock.sendall(_request(guarded, "POST", "/threads/count", b"{}", content_type="application/json",
                              content_length="2", connection="close"))
        status, _, body = _head_and_body(_until_closed(sock))
    assert status == "HTTP/1.1 200 OK" and isinstance(body, int)


def test_one_address_over_its_connection_limit_is_refused_then_served(guarded: ApiServer) -> None:
    streams = [_connect(guarded) for _ in range(MAX_PER_CLIENT)]
    try:
        for sock in streams:  # each holds its connection with a request in progress (an endless event stream)
            sock.sendall(_request(guarded, "GET", "/v1/events", accept="text/event-stream"))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        with _connect(guarded) as sock:
            sock.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, headers, body = _head_and_body(_until_closed(sock))
        assert status == "HTTP/1.1 429 Too Many Requests"
        assert int(headers["retry-after"]) >= 1 and headers["connection"] == "close"
        assert body["error"] == "too_many_connections" and str(MAX_PER_CLIENT) in str(body["message"])
    finally:
        streams.pop().close()
    try:
        # With one stream closed, the address is under its limit again: a new connection is served.
        wait_until(lambda: httpx.get(f"{guarded.url}/ok", timeout=ANSWER_WITHIN).status_code == 200, timeout=60)
    finally:
        for sock in streams:
            sock.close()
