"""Real servers for tests, started one way: an ASGI app under uvicorn on a free loopback port, either on its own
thread and event loop (`ServerThread`, like a separate process but inspectable) or in the test's own loop
(`serve`, when the test shares objects with the app, such as its database engine). Both return only once
uvicorn says it is serving. And waiting for what servers do in the background (`wait_until`, `await_until`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """The app under uvicorn on its own thread and event loop, like a separate process but inspectable."""

    def __init__(self, app: Any, port: int | None = None, *, lifespan: str = "on", http: Any = "auto") -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(_config(app, self.port, lifespan=lifespan, http=http))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.time() + 180
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _config(app: Any, port: int, *, lifespan: str = "on", http: Any = "auto") -> uvicorn.Config:
    """`http`: uvicorn's protocol, or what `serve` passes (`api.connections.http_protocol`)."""
    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan, loop="asyncio",
                          timeout_graceful_shutdown=3, timeout_keep_alive=30, http=http)


@contextlib.asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """The app under uvicorn in this event loop, for as long as the block runs; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(_config(app, port))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.get_running_loop().create_task(server.serve())
    deadline = time.monotonic() + 180
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll `predicate` until it is truthy; return its value, or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(interval)


async def await_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """`wait_until` for async tests; `predicate` may be sync or return an awaitable."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(interval)
