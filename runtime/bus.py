"""The event bus: append-only named streams with replay, shared by run streaming and the webhook side API.

Why a bus: a run executes in one process but its events are read by any process (a client may create a run on
one server and stream or join it on another, or reconnect with `Last-Event-ID` after a drop). Each stream keeps
its recent events so late readers can replay them; every event gets an id that increases monotonically within
the stream, which is what SSE `id:` / `Last-Event-ID` carry.

Two implementations behind one interface:
- `RedisBus` (when `REDIS_URL` is set): Redis Streams. `XADD ... MAXLEN ~ N`, one reader task per stream per
  process doing `XREAD BLOCK` and fanning each message out to all local subscribers (so a thousand SSE clients
  of one run cost one Redis connection, not a thousand), `XRANGE` for replay. One shared connection pool.
- `InProcessBus` (no Redis): the same semantics inside one process.

`subscription(stream, last_id=None)` opens a subscription and yields its messages: live events only (from the
moment it is open); `last_id="0"` replays everything still retained, then live; any other id replays what came
after it. A caller that must not miss an event published right after it tells someone it is listening (an
SSE `ready` frame) opens the subscription first. `subscribe(...)` is the same as one async iterator.
`stop=` ends a subscription cleanly from outside (a server shutting down ends its SSE responses instead of
having them cut): one waiting task per subscription, and nothing added to the path each message takes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis

from docusign_agent.backoff import Backoff
from docusign_agent.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAXLEN = 50_000
"""Events kept per stream. A long agent run streams one event per token; this keeps hours of them."""
RECONNECT = Backoff(base=0.1, cap=5.0, jitter=0.25)  # a stream reader waiting for Redis to come back


@dataclass(frozen=True, slots=True)
class BusMessage:
    id: str
    event: str
    data: bytes


class InvalidEventId(ValueError):
    """A `last_id` that this bus could not have issued (e.g. a malformed Last-Event-ID header)."""


class Stop(Protocol):
    """What ends a subscription early when set: `asyncio.Event` and `anyio.Event` both fit."""

    def is_set(self) -> bool: ...

    async def wait(self) -> object: ...


class EventBus(Protocol):
    async def publish(self, stream: str, event: str, data: bytes) -> str:
        """Append an event; returns its id (monotonically increasing within the stream)."""
        ...

    async def publish_many(self, stream: str, events: Sequence[tuple[str, bytes]], *,
                           ttl_seconds: int | None = None) -> list[str]:
        """Append events in order in one round trip, then (if given) set the stream's lifetime as `expire` does."""
        ...

    def subscription(self, stream: str, *, last_id: str | None = None,
                     stop: Stop | None = None) -> AbstractAsyncContextManager[AsyncIterator[BusMessage]]:
        """Open now: replay what is retained after `last_id` ("0": everything; None: nothing), then follow live
        until `stop` is set (its iterator then ends). Raises InvalidEventId on entering for an id this bus could
        not have issued."""
        ...

    def subscribe(self, stream: str, *, last_id: str | None = None) -> AsyncIterator[BusMessage]:
        """`subscription` as one async iterator (opened when iteration starts)."""
        ...

    async def expire(self, stream: str, seconds: int) -> None:
        """Drop the whole stream `seconds` from now (refreshed by calling again)."""
        ...

    async def aclose(self) -> None: ...


# --------------------------------------------------------------------------------------------------------
# in-process
# --------------------------------------------------------------------------------------------------------


@dataclass
class _LocalStream:
    items: deque[tuple[int, BusMessage]]
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    expires_at: float | None = None


class InProcessBus:
    """Single-process bus. Ids come from one process-wide counter, so they stay monotonic per stream even if a
    stream expires and is re-created. The counter starts at the wall clock in microseconds, so a restarted
    server's ids are above every id the previous one issued: a client resuming with the old server's
    Last-Event-ID is sent what the new one published, not made to wait until its counter catches up."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN) -> None:
        self._maxlen = maxlen
        self._streams: dict[str, _LocalStream] = {}
        self._counter = itertools.count(time.time_ns() // 1000)
        self._closed = False
        self._last_eviction = 0.0

    def _stream(self, name: str) -> _LocalStream:
        self._evict_expired()
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = _LocalStream(items=deque(maxlen=self._maxlen))
        return stream

    def _evict_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_eviction < 1.0:  # at most once a second: publishing stays O(1)
            return
        self._last_eviction = now
        for name in [n for n, s in self._streams.items() if s.expires_at is not None and s.expires_at <= now]:
            stream = self._streams.pop(name)
            stream.changed.set()  # wake readers so they re-bind to a fresh stream object

    async def publish(self, stream: str, event: str, data: bytes) -> str:
        return (await self.publish_many(stream, ((event, data),)))[0]

    async def publish_many(self, stream: str, events: Sequence[tuple[str, bytes]], *,
                           ttl_seconds: int | None = None) -> list[str]:
        target = self._stream(stream)
        ids = []
        for event, data in events:
            number = next(self._counter)
            target.items.append((number, BusMessage(id=str(number), event=event, data=data)))
            ids.append(str(number))
        if ttl_seconds is not None:
            target.expires_at = time.monotonic() + ttl_seconds
        _wake(target)  # readers wake once per batch
        return ids

    @asynccontextmanager
    async def subscription(self, stream: str, *, last_id: str | None = None,
                           stop: Stop | None = None) -> AsyncIterator[AsyncIterator[BusMessage]]:
        cursor = _parse_local_id(last_id)
        if cursor is None:  # live only: start after whatever is there now
            items = self._stream(stream).items
            cursor = items[-1][0] if items else 0
        watcher = None if stop is None else asyncio.ensure_future(self._wake_when(stop, stream))
        try:
            yield self._follow(stream, cursor, stop)
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _wake_when(self, stop: Stop, stream: str) -> None:
        await stop.wait()
        target = self._streams.get(stream)  # an expired stream's readers were woken when it was dropped
        if target is not None:
            _wake(target)  # every reader re-checks; the stopped one ends

    async def subscribe(self, stream: str, *, last_id: str | None = None) -> AsyncIterator[BusMessage]:  # type: ignore[override]
        async with self.subscription(stream, last_id=last_id) as messages:
            async for message in messages:
                yield message

    async def _follow(self, stream: str, cursor: int, stop: Stop | None) -> AsyncIterator[BusMessage]:
        while not self._closed and not _stopped(stop):
            target = self._stream(stream)
            changed = target.changed
            pending = [m for n, m in _after(target.items, cursor)]
            for message in pending:
                if _stopped(stop):  # a long replay must not outlast a shutdown's grace period
                    return
                cursor = int(message.id)
                yield message
            if not pending:
                await changed.wait()

    async def expire(self, stream: str, seconds: int) -> None:
        self._stream(stream).expires_at = time.monotonic() + seconds

    async def aclose(self) -> None:
        self._closed = True
        for stream in self._streams.values():
            stream.changed.set()


def _stopped(stop: Stop | None) -> bool:
    return stop is not None and stop.is_set()


def _wake(stream: _LocalStream) -> None:
    """Wake a stream's readers once: a fresh event for them to wait on next, so none of them spins."""
    waiters, stream.changed = stream.changed, asyncio.Event()
    waiters.set()


def _after(items: deque[tuple[int, BusMessage]], cursor: int) -> list[tuple[int, BusMessage]]:
    """Items with id > cursor; scanned from the right since readers are usually just behind the head."""
    out: list[tuple[int, BusMessage]] = []
    for item in reversed(items):
        if item[0] <= cursor:
            break
        out.append(item)
    out.reverse()
    return out


def _parse_local_id(last_id: str | None) -> int | None:
    if last_id is None:
        return None
    if last_id in ("0", "0-0", ""):
        return 0
    try:
        return int(last_id)
    except ValueError:
        raise InvalidEventId(f"event id {last_id!r} is not one this server issued") from None


# --------------------------------------------------------------------------------------------------------
# Redis Streams
# --------------------------------------------------------------------------------------------------------

_EVENT = b"e"
_DATA = b"d"


def _honour_cancellation() -> None:
    """Re-raise a cancellation that redis-py swallowed.

    Cancelling a task while redis-py is opening a connection can be absorbed inside the client (the task is
    left "cancelling" but keeps running); a subscriber would then wait forever and a cancelled run would go on.
    Checked after every Redis await on paths that must stop when cancelled.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _redis_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class _StreamReader:
    """One `XREAD BLOCK` loop per stream per process, fanning each message out to local subscriber queues."""

    def __init__(self, redis: Redis, stream: str, start_id: str, on_idle: Callable[[str, _StreamReader], None]) -> None:
        self._redis = redis
        self._stream = stream
        self._cursor = start_id
        self._queues: set[asyncio.Queue[BusMessage | None]] = set()
        self._on_idle = on_idle
        self._task = asyncio.create_task(self._run(), name=f"bus-reader:{stream}")

    def attach(self) -> asyncio.Queue[BusMessage | None]:
        queue: asyncio.Queue[BusMessage | None] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def detach(self, queue: asyncio.Queue[BusMessage | None]) -> None:
        self._queues.discard(queue)
        if not self._queues:
            self._task.cancel()
            self._on_idle(self._stream, self)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                response = await self._redis.xread({self._stream: self._cursor}, block=5000, count=500)
                _honour_cancellation()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: keep the subscribers, retry with backoff
                log.warning("bus reader for %s failed: %s", self._stream, exc)
                await asyncio.sleep(RECONNECT.delay(failures))
                failures += 1
                continue
            for _name, entries in response or ():
                for raw_id, fields in entries:
                    message = BusMessage(
                        id=raw_id.decode(), event=fields[_EVENT].decode(), data=fields.get(_DATA, b"")
                    )
                    self._cursor = message.id
                    for queue in self._queues:
                        queue.put_nowait(message)

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.wait({self._task}, timeout=2)
        for queue in self._queues:
            queue.put_nowait(None)


async def _end_when(stop: Stop, queue: asyncio.Queue[BusMessage | None]) -> None:
    await stop.wait()
    queue.put_nowait(None)  # wakes the subscriber, whose iterator then ends


class RedisBus:
    def __init__(self, url: str, maxlen: int = DEFAULT_MAXLEN) -> None:
        # Blocking pool: under a burst, callers wait for a connection instead of opening unbounded sockets.
        self._pool = BlockingConnectionPool.from_url(url, max_connections=512, timeout=30, socket_timeout=30,
                                                    socket_connect_timeout=5, health_check_interval=30)
        self.redis: Redis = Redis(connection_pool=self._pool)
        self._maxlen = maxlen
        self._readers: dict[str, _StreamReader] = {}
        self._reader_lock = asyncio.Lock()

    async def publish(self, stream: str, event: str, data: bytes) -> str:
        raw = await self.redis.xadd(stream, {_EVENT: event.encode(), _DATA: data}, maxlen=self._maxlen,
                                    approximate=True)
        _honour_cancellation()
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def publish_many(self, stream: str, events: Sequence[tuple[str, bytes]], *,
                           ttl_seconds: int | None = None) -> list[str]:
        pipe = self.redis.pipeline(transaction=False)  # one round trip, commands in order
        for event, data in events:
            pipe.xadd(stream, {_EVENT: event.encode(), _DATA: data}, maxlen=self._maxlen, approximate=True)
        if ttl_seconds is not None:
            pipe.expire(stream, ttl_seconds)
        results = await pipe.execute()
        _honour_cancellation()
        return [r.decode() if isinstance(r, bytes) else str(r) for r in results[:len(events)]]

    async def _reader(self, stream: str) -> _StreamReader:
        async with self._reader_lock:
            reader = self._readers.get(stream)
            if reader is None:
                head = await self.redis.xrevrange(stream, count=1)
                _honour_cancellation()
                start = head[0][0].decode() if head else "0-0"
                reader = self._readers[stream] = _StreamReader(self.redis, stream, start, self._reader_idle)
            return reader

    def _reader_idle(self, stream: str, reader: _StreamReader) -> None:
        if self._readers.get(stream) is reader:
            del self._readers[stream]

    @asynccontextmanager
    async def subscription(self, stream: str, *, last_id: str | None = None,
                           stop: Stop | None = None) -> AsyncIterator[AsyncIterator[BusMessage]]:
        if last_id is not None and last_id not in ("0", ""):
            try:
                _redis_id(last_id)
            except ValueError:
                raise InvalidEventId(f"event id {last_id!r} is not one this server issued") from None
        reader = await self._reader(stream)
        _honour_cancellation()
        queue = reader.attach()  # attached before any replay read: nothing published from now on is missed
        watcher = None if stop is None else asyncio.ensure_future(_end_when(stop, queue))
        try:
            yield self._follow(stream, queue, last_id, stop)
        finally:
            if watcher is not None:
                watcher.cancel()
            reader.detach(queue)

    async def subscribe(self, stream: str, *, last_id: str | None = None) -> AsyncIterator[BusMessage]:  # type: ignore[override]
        async with self.subscription(stream, last_id=last_id) as messages:
            async for message in messages:
                yield message

    async def _follow(self, stream: str, queue: asyncio.Queue[BusMessage | None],
                      last_id: str | None, stop: Stop | None) -> AsyncIterator[BusMessage]:
        seen: tuple[int, int] | None = None
        if last_id is not None:
            start = "-" if last_id in ("0", "") else f"({last_id}"
            replay = await self.redis.xrange(stream, min=start, max="+")
            _honour_cancellation()
            for raw_id, fields in replay:
                if _stopped(stop):
                    return
                message = BusMessage(id=raw_id.decode(), event=fields[_EVENT].decode(),
                                     data=fields.get(_DATA, b""))
                seen = _redis_id(message.id)
                yield message
        while True:
            message = await queue.get()
            if message is None or _stopped(stop):
                return
            if seen is not None and _redis_id(message.id) <= seen:
                continue  # already delivered by the replay
            if last_id not in (None, "0", "") and _redis_id(message.id) <= _redis_id(last_id):  # type: ignore[arg-type]
                continue
            yield message

    async def expire(self, stream: str, seconds: int) -> None:
        await self.redis.expire(stream, seconds)
        _honour_cancellation()

    async def aclose(self) -> None:
        for reader in list(self._readers.values()):
            await reader.aclose()
        self._readers.clear()
        await self.redis.aclose()
        await self._pool.aclose()


class BatchingPublisher:
    """One stream's events, sent in batches: what is published within `window_seconds` of the first unsent
    event goes out together (one pipelined Redis round trip, one wake-up of in-process readers) instead of one
    round trip per token. Order is kept; a failure to send is raised by the next `publish` or `flush`, and
    events still unsent then are dropped (the run fails, as it would have with unbatched publishes)."""

    def __init__(self, bus: EventBus, stream: str, *, window_seconds: float = 0.001) -> None:
        self._bus = bus
        self._stream = stream
        self._window = window_seconds
        self._pending: list[tuple[str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    def publish(self, event: str, data: bytes) -> None:
        if self._failure is not None:
            raise self._failure
        self._pending.append((event, data))
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send(), name=f"publish:{self._stream}")

    async def flush(self) -> None:
        """Wait until everything published so far is on the bus (a cancelled caller leaves the sending to
        finish on its own)."""
        while self._sender is not None:
            await asyncio.shield(self._sender)
        if self._failure is not None:
            raise self._failure

    async def close(self, event: str, data: bytes, *, ttl_seconds: int | None = None) -> str:
        """Send what is pending, then the stream's last event, with its lifetime set in the same round trip."""
        await self.flush()
        return (await self._bus.publish_many(self._stream, ((event, data),), ttl_seconds=ttl_seconds))[0]

    async def _send(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(self._window)
                batch, self._pending = self._pending, []
                await self._bus.publish_many(self._stream, batch)
        except BaseException as exc:  # surfaced to the publisher's owner; never left unretrieved
            self._failure = exc
            self._pending = []
        finally:
            self._sender = None


def make_bus(settings: Settings) -> EventBus:
    """Redis Streams when REDIS_URL is set, else the in-process bus (single process only)."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    return InProcessBus()


def check_event_id(bus: EventBus, last_id: str) -> None:
    """Raise InvalidEventId if `last_id` is not an id `bus` could have issued (before a response starts)."""
    if isinstance(bus, RedisBus):
        if last_id not in ("0", ""):
            try:
                _redis_id(last_id)
            except ValueError:
                raise InvalidEventId(f"event id {last_id!r} is not one this server issued") from None
    else:
        _parse_local_id(last_id)
