"""The event bus contract, on both implementations: ids, replay, live fan-out, resume after an id, expiry."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from runtime.bus import BatchingPublisher, BusMessage, EventBus, InProcessBus, InvalidEventId, RedisBus
from tests.api_helpers import RedisProcess
from tests.servers import await_until


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str | None]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
    elif RedisProcess.available():
        with RedisProcess() as redis:
            yield redis.url
    else:
        yield None


@pytest.fixture(params=["in-process", "redis"])
async def bus(request: pytest.FixtureRequest, redis_url: str | None) -> AsyncIterator[EventBus]:
    if request.param == "redis":
        if redis_url is None:
            pytest.skip("the Redis implementation needs REDIS_URL or redis-server (in-process variant ran)")
        instance: EventBus = RedisBus(redis_url)
    else:
        instance = InProcessBus()
    yield instance
    await instance.aclose()


async def _take(iterator: AsyncIterator[BusMessage], count: int, timeout: float = 5) -> list[BusMessage]:
    async def take() -> list[BusMessage]:
        return [await anext(iterator) for _ in range(count)]

    return await asyncio.wait_for(take(), timeout)


def _id_key(message_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in message_id.split("-"))


async def test_replay_then_live_and_fan_out(bus: EventBus) -> None:
    stream = f"test:{uuid.uuid4()}"
    ids = [await bus.publish(stream, "e", f"{i}".encode()) for i in range(3)]
    assert sorted(ids, key=_id_key) == ids and len(set(ids)) == 3
    everything = bus.subscribe(stream, last_id="0")
    after_first = bus.subscribe(stream, last_id=ids[0])
    assert [m.data for m in await _take(everything, 3)] == [b"0", b"1", b"2"]
    assert [m.data for m in await _take(after_first, 2)] == [b"1", b"2"]
    async with bus.subscription(stream) as live:  # open: from here on, nothing published is missed
        newer = [await bus.publish(stream, "x", b"3"), await bus.publish(stream, "y", b"4")]
        for reader in (everything, after_first):
            got = await _take(reader, 2)
            assert [(m.id, m.event, m.data) for m in got] == [(newer[0], "x", b"3"), (newer[1], "y", b"4")]
        assert [m.data for m in await _take(live, 2)] == [b"3", b"4"]  # live only: nothing from before it opened
    for reader in (everything, after_first):
        await reader.aclose()  # type: ignore[attr-defined]


async def test_an_event_published_the_moment_a_subscription_opens_is_delivered(bus: EventBus) -> None:
    """What `/v1/events` relies on: it sends `ready` once the subscription is open, and a client that saw
    `ready` must get the next update, however soon it comes."""
    for attempt in range(20):
        stream = f"test:{uuid.uuid4()}"
        async with bus.subscription(stream) as live:
            await bus.publish(stream, "update", str(attempt).encode())
            assert [m.data for m in await _take(live, 1)] == [str(attempt).encode()]


async def test_many_subscribers_get_the_same_events_in_order(bus: EventBus) -> None:
    stream = f"test:{uuid.uuid4()}"
    readers = [bus.subscribe(stream, last_id="0") for _ in range(20)]
    tasks = [asyncio.create_task(_take(r, 50)) for r in readers]
    for i in range(50):
        await bus.publish(stream, "tick", str(i).encode())
    results = await asyncio.gather(*tasks)
    assert all([m.data for m in got] == [str(i).encode() for i in range(50)] for got in results)


async def test_expire_and_bad_ids(bus: EventBus) -> None:
    stream = f"test:{uuid.uuid4()}"
    await bus.publish(stream, "e", b"gone soon")
    await bus.expire(stream, 1)

    async def expired() -> bool:
        async with bus.subscription(stream, last_id="0") as replay:
            try:
                await _take(replay, 1, timeout=0.2)
            except TimeoutError:
                return True
            return False

    await await_until(expired, timeout=30)
    reader = bus.subscribe(stream, last_id="0")
    with pytest.raises(TimeoutError):
        await _take(reader, 1, timeout=0.5)
    with pytest.raises(InvalidEventId):
        await anext(bus.subscribe(stream, last_id="not-an-id"))


async def test_an_id_from_before_a_restart_resumes_with_what_the_restarted_bus_published() -> None:
    """The embedded default: one process, the in-process bus, and a browser that reconnects with the
    Last-Event-ID it had from the process before."""
    stream = f"test:{uuid.uuid4()}"
    before = InProcessBus()
    last = [await before.publish(stream, "e", f"old {n}".encode()) for n in range(50)][-1]
    await before.aclose()
    # A restart takes far longer than this; wait for the premise rather than assume it on a fast machine.
    await await_until(lambda: time.time_ns() // 1000 > int(last), timeout=30)
    after = InProcessBus()
    try:
        await after.publish(stream, "e", b"new")
        async with after.subscription(stream, last_id=last) as resumed:
            assert [m.data for m in await _take(resumed, 1)] == [b"new"]
    finally:
        await after.aclose()


async def test_stop_ends_one_subscription_and_the_others_go_on(bus: EventBus) -> None:
    stream = f"test:{uuid.uuid4()}"
    stop = asyncio.Event()
    async with bus.subscription(stream, stop=stop) as stopped, bus.subscription(stream) as other:
        await bus.publish(stream, "e", b"one")
        assert [m.data for m in await _take(stopped, 1)] == [b"one"]
        stop.set()

        async def rest() -> list[BusMessage]:
            return [m async for m in stopped]

        assert await asyncio.wait_for(rest(), timeout=30) == []  # ends without another message
        await bus.publish(stream, "e", b"two")
        assert [m.data for m in await _take(other, 2)] == [b"one", b"two"]  # the others go on


async def test_stop_ends_a_replay_part_way(bus: EventBus) -> None:
    stream, stop = f"test:{uuid.uuid4()}", asyncio.Event()
    await bus.publish_many(stream, [("e", str(n).encode()) for n in range(20)])
    async with bus.subscription(stream, last_id="0", stop=stop) as replay:
        assert [m.data for m in await _take(replay, 2)] == [b"0", b"1"]
        stop.set()

        async def rest() -> list[BusMessage]:
            return [m async for m in replay]

        assert await asyncio.wait_for(rest(), timeout=30) == []


async def test_a_subscription_left_before_its_stop_leaves_no_watcher(bus: EventBus) -> None:
    stream, stop = f"test:{uuid.uuid4()}", asyncio.Event()
    before = asyncio.all_tasks()
    async with bus.subscription(stream, stop=stop):
        started = {t for t in asyncio.all_tasks() - before if not t.get_name().startswith("bus-reader:")}
        assert started, "a subscription with stop= watches it"
    await await_until(lambda: all(t.done() for t in started), timeout=30)


async def test_batches_keep_order_and_set_the_lifetime(bus: EventBus) -> None:
    """What a run's publisher relies on: a batch lands in order, with ids after everything before it, and its
    lifetime is set in the same round trip."""
    stream = f"test:{uuid.uuid4()}"
    first = await bus.publish(stream, "e", b"0")
    ids = await bus.publish_many(stream, [("a", b"1"), ("b", b"2"), ("c", b"3")], ttl_seconds=3600)
    assert sorted([first, *ids], key=_id_key) == [first, *ids] and len(set(ids)) == 3
    got = await _take(bus.subscribe(stream, last_id="0"), 4)
    assert [(m.event, m.data) for m in got] == [("e", b"0"), ("a", b"1"), ("b", b"2"), ("c", b"3")]
    if isinstance(bus, RedisBus):
        assert 0 < await bus.redis.ttl(stream) <= 3600


async def test_the_batching_publisher_sends_everything_in_order_and_fewer_times(bus: EventBus) -> None:
    stream = f"test:{uuid.uuid4()}"
    sent: list[int] = []
    publish_many = bus.publish_many

    async def counting(name: str, events, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(len(events))
        return await publish_many(name, events, **kwargs)

    bus.publish_many = counting  # type: ignore[method-assign]
    publisher = BatchingPublisher(bus, stream)
    reader = bus.subscribe(stream, last_id="0")
    for i in range(200):
        publisher.publish("token", str(i).encode())
        if i % 50 == 49:
            await asyncio.sleep(0)  # some events arrive after the first batch left
    await publisher.close("end", b"", ttl_seconds=60)
    got = await _take(reader, 201)
    assert [m.data for m in got[:200]] == [str(i).encode() for i in range(200)] and got[200].event == "end"
    assert sum(sent) == 201 and len(sent) < 20  # batches, not one round trip per event


async def test_a_failed_batch_is_raised_to_the_publisher() -> None:
    class Broken(InProcessBus):
        async def publish_many(self, stream, events, *, ttl_seconds=None):  # type: ignore[no-untyped-def]
            raise ConnectionError("the bus is down")

    publisher = BatchingPublisher(Broken(), "test:broken")
    publisher.publish("token", b"1")
    with pytest.raises(ConnectionError, match="the bus is down"):
        await publisher.flush()
    with pytest.raises(ConnectionError):
        publisher.publish("token", b"2")
