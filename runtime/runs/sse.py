"""Server-sent events: the frame format LangGraph clients parse, and a response that keeps idle streams alive.

Each event's JSON is encoded once by whoever publishes it; a frame is that payload wrapped in
`event:`/`data:`/`id:` lines. A comment line is sent when nothing else was for `heartbeat` seconds, so proxies
and browsers keep the connection open while the agent thinks or waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

HEARTBEAT_SECONDS = 5.0
HEARTBEAT = b": heartbeat\n\n"
_SEP = b"\n"


def frame(event: str, data: bytes, event_id: str | None = None) -> bytes:
    parts = [b"event: ", event.encode(), _SEP, b"data: ", data, _SEP]
    if event_id is not None:
        parts += [b"id: ", event_id.encode(), _SEP]
    parts.append(_SEP)
    return b"".join(parts)


async def with_heartbeats(
    source: AsyncIterator[bytes],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    on_idle: Callable[[], Awaitable[bytes | None]] | None = None,
) -> AsyncIterator[bytes]:
    """Yield `source`'s chunks, and a heartbeat whenever it is quiet.

    The source is pumped by its own task into a queue, so waiting with a timeout never cancels the source
    mid-step. `on_idle` runs on each quiet period; returning bytes ends the stream with them (used to close a
    stream whose run ended while its end event was lost).
    """
    queue: asyncio.Queue[tuple[str, bytes | BaseException | None]] = asyncio.Queue(maxsize=1024)

    async def pump() -> None:
        try:
            async for chunk in source:
                await queue.put(("data", chunk))
            await queue.put(("done", None))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the consumer below
            await queue.put(("raise", exc))

    task = asyncio.create_task(pump())
    held: tuple[str, bytes | BaseException | None] | None = None  # taken from the queue, not yet handled
    try:
        while True:
            if held is not None:
                (kind, item), held = held, None
            else:
                try:
                    kind, item = await asyncio.wait_for(queue.get(), timeout=heartbeat)
                except TimeoutError:
                    if on_idle is not None and (closing := await on_idle()) is not None:
                        yield closing
                        return
                    yield HEARTBEAT
                    continue
            if kind == "done":
                return
            if kind == "raise":
                raise item  # type: ignore[misc]
            # Frames already queued (a batch of events) go out as one chunk: one write, not one per event.
            chunks = [item]
            while not queue.empty():
                following = queue.get_nowait()
                if following[0] != "data":
                    held = following
                    break
                chunks.append(following[1])
            yield chunks[0] if len(chunks) == 1 else b"".join(chunks)  # type: ignore[arg-type]
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=2)  # bounded, and never swallows our own cancellation
