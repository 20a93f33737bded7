"""`/v1/events` across a server shutdown: the stream ends cleanly, so the client's EventSource reconnects with
Last-Event-ID instead of seeing a broken response, and the server logs no error for it. Also `until`, which
makes that possible, on its own: it stops on the signal, and never leaves a read running once its reader goes.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from api.auth import issue_token
from api.webhooks.events import until
from docusign_agent.settings import Settings
from tests.api_helpers import ServerProcess


def test_the_event_stream_ends_cleanly_when_the_server_stops(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess({"DATABASE_URL": settings.database_url or "", "AUTH_JWT_SECRET": settings.auth_jwt_secret or "",
                            "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}).start()
    try:
        token = issue_token(settings, uuid.uuid4(), f"shutdown-{secrets.token_hex(3)}@example.com")
        lines: list[str] = []
        with httpx.stream("GET", f"{server.url}/v1/events", headers={"Authorization": f"Bearer {token}"},
                          timeout=httpx.Timeout(60, read=120)) as response:
            assert response.status_code == 200
            for line in response.iter_lines():  # a cut-off chunked body raises here instead of ending
                lines.append(line)
                if line == "event: ready":
                    assert server.proc is not None
                    server.proc.terminate()
        assert "event: ready" in lines
        assert server.proc is not None
        assert server.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped on
        assert "without completing response" not in server.output()
        assert "ERROR" not in server.output(), server.output()[-3000:]
    finally:
        server.stop()


async def test_until_stops_when_told_and_ends_with_its_items() -> None:
    async def count() -> AsyncIterator[int]:
        for n in range(3):
            yield n

    assert [n async for n in until(anyio.Event(), count())] == [0, 1, 2]

    stop, fed = anyio.Event(), asyncio.Queue[int]()

    async def feed() -> AsyncIterator[int]:
        while True:
            yield await fed.get()

    got: list[int] = []

    async def read() -> None:
        async for n in until(stop, feed()):
            got.append(n)
            if n == 1:
                stop.set()

    fed.put_nowait(0)
    fed.put_nowait(1)
    await asyncio.wait_for(read(), timeout=30)
    assert got == [0, 1]


async def test_until_leaves_no_read_behind_when_its_reader_is_cancelled() -> None:
    waiting, finished = asyncio.Event(), asyncio.Event()

    async def forever() -> AsyncIterator[int]:
        try:
            waiting.set()
            await asyncio.Event().wait()
            yield 0
        finally:
            finished.set()

    async def read() -> None:
        async for _ in until(anyio.Event(), forever()):
            pytest.fail("nothing was published")

    reader = asyncio.ensure_future(read())
    await asyncio.wait_for(waiting.wait(), timeout=30)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await asyncio.wait_for(finished.wait(), timeout=30)  # the pending read was cancelled, not left waiting
