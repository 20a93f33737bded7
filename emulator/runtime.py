"""The live emulator: state plus the background machinery (Connect, bulk sends, snapshots).

A mounted sub-app's lifespan never runs under Starlette's Mount, so the parent must call `start()` and
`aclose()` (or enter `lifespan()`); everything also starts lazily on first use, so a forgetful parent
still works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Request

from emulator.dispatcher import ConnectDispatcher
from emulator.limits import FaultRegistry, RateLimiter
from emulator.request_log import RequestLog
from emulator.state import EmulatorConfig, EmulatorState, Snapshotter

log = logging.getLogger(__name__)


class Emulator:
    def __init__(self, state: EmulatorState, snapshot_path: Path | None = None) -> None:
        self.state = state
        self.snapshot_path = snapshot_path
        self.snapshots = Snapshotter(state, snapshot_path)
        self.dispatcher = ConnectDispatcher(self.config)
        self.limiter = RateLimiter(self.config)
        self.faults = FaultRegistry()
        self.requests = RequestLog()
        self._tasks: set[asyncio.Task[Any]] = set()

    def config(self) -> EmulatorConfig:
        return self.state.config

    def changed(self) -> None:
        self.snapshots.mark_dirty()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run work after the response, holding a reference so the task is not garbage-collected."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("emulator background task %s failed", name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def start(self) -> None:
        await self.dispatcher.start()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.dispatcher.aclose()
        await self.snapshots.flush()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.aclose()


def emulator_of(request: Request) -> Emulator:
    emu = request.app.state.emulator
    assert isinstance(emu, Emulator)
    return emu


def root_url(request: Request) -> str:
    """The emulator's own absolute root, including the mount prefix, without a trailing slash.

    Starlette's `request.base_url` drops a Mount's prefix (it uses the top-level `app_root_path`), so the
    root is rebuilt from the request's origin and this app's own `root_path`.
    """
    url = request.url
    root_path = str(request.scope.get("root_path", "") or "").rstrip("/")
    return f"{url.scheme}://{url.netloc}{root_path}"
