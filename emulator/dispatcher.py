"""Connect delivery in the background: never on the request path, with DocuSign's retry and signing habits.

Listeners must cope with retries, duplicates and reordering in production, so the knobs that produce them
live here, where tests can turn them on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from docusign_agent.backoff import Backoff
from docusign_agent.docusign_time import format_time
from emulator.state import EmulatorConfig

log = logging.getLogger(__name__)


def sign_body(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    url: str
    payload: dict[str, Any]
    hmac_keys: list[str] = field(default_factory=list)
    attempt: int = 0
    first_at: float | None = None  # loop time of the first attempt: retries stop a window after it


@dataclass
class DeliveryRecord:
    url: str
    event: str
    envelope_id: str
    retry_count: int
    status: int | None
    error: str | None
    at: str
    abandoned: bool = False  # the last attempt of a delivery that never succeeded: Connect gave up


class ConnectDispatcher:
    def __init__(self, config: Callable[[], EmulatorConfig]) -> None:
        self._config = config
        self._queue: asyncio.Queue[Delivery] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._retries: set[asyncio.TimerHandle] = set()
        self._pending = 0
        self.log: deque[DeliveryRecord] = deque(maxlen=1000)

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.running and self._loop is loop:
            return
        self._loop = loop
        self._queue = asyncio.Queue()
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._worker = loop.create_task(self._run(), name="emulator-connect-dispatcher")

    async def aclose(self) -> None:
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down either way
                pass
        self._worker = None
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        self._queue = None
        self._pending = 0

    def submit(self, delivery: Delivery) -> None:
        """Queue without awaiting; starts the worker on first use when no parent lifespan started it."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("connect event dropped: no running event loop")
            return
        if not self.running or self._loop is not loop:
            self._loop = loop
            self._queue = asyncio.Queue()
            self._client = httpx.AsyncClient(follow_redirects=False)
            self._worker = loop.create_task(self._run(), name="emulator-connect-dispatcher")
        assert self._queue is not None
        self._pending += 1
        self._queue.put_nowait(delivery)

    @property
    def idle(self) -> bool:
        return self._pending == 0

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            first = await queue.get()
            batch = [first]
            cfg = self._config()
            if cfg.connect_shuffle:
                await asyncio.sleep(0.05)  # let a few more events arrive, so there is something to reorder
                while len(batch) < max(2, cfg.connect_shuffle_window) and not queue.empty():
                    batch.append(queue.get_nowait())
                random.shuffle(batch)
            for delivery in batch:
                try:
                    await self._deliver(delivery)
                except Exception:
                    log.exception("connect delivery crashed")
                    self._pending -= 1

    async def _post(self, delivery: Delivery, body: bytes) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "DocuSign Connect Emulator",
        }
        for index, key in enumerate(delivery.hmac_keys, start=1):
            headers[f"X-DocuSign-Signature-{index}"] = sign_body(body, key)
        assert self._client is not None
        try:
            resp = await self._client.post(
                delivery.url, content=body, headers=headers, timeout=self._config().connect_timeout_seconds
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return resp.status_code, None

    async def _deliver(self, delivery: Delivery) -> None:
        cfg = self._config()
        delivery.payload["retryCount"] = delivery.attempt
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        status, error = await self._post(delivery, body)
        record = self._record(delivery, status, error)
        ok = status is not None and 200 <= status < 300
        if ok and cfg.connect_duplicate_rate > 0 and random.random() < cfg.connect_duplicate_rate:
            dup_status, dup_error = await self._post(delivery, body)
            self._record(delivery, dup_status, dup_error)
        assert self._loop is not None
        if delivery.first_at is None:
            delivery.first_at = self._loop.time()
        # DocuSign's schedule, exact (doubling from the base, capped), which tests observe: no jitter.
        delay = Backoff(base=cfg.connect_retry_base_seconds, cap=cfg.connect_retry_cap_seconds,
                        jitter=0.0).delay(delivery.attempt)
        out_of_time = self._loop.time() + delay - delivery.first_at > cfg.connect_retry_window_seconds
        if ok or delivery.attempt >= cfg.connect_max_retries or out_of_time:
            if not ok:
                record.abandoned = True
                log.warning(
                    "connect delivery to %s abandoned after %d retries", delivery.url, delivery.attempt
                )
            self._pending -= 1
            return
        delivery.attempt += 1
        handle: asyncio.TimerHandle | None = None

        def requeue() -> None:
            if handle is not None:
                self._retries.discard(handle)
            if self._queue is not None:
                self._queue.put_nowait(delivery)

        handle = self._loop.call_later(delay, requeue)
        self._retries.add(handle)

    def _record(self, delivery: Delivery, status: int | None, error: str | None) -> DeliveryRecord:
        data = delivery.payload.get("data") or {}
        record = DeliveryRecord(delivery.url, str(delivery.payload.get("event")), str(data.get("envelopeId")),
                                delivery.attempt, status, error, format_time())
        self.log.append(record)
        return record
