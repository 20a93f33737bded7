"""A run's event stream on the bus: its name, how long it is kept, and the `end` event every stream ends with.

Readers stop at `end` (`{"run_id", "status"}`), so every way a run can finish publishes it through here: the
executor when it settles a run, the worker when it sweeps a run whose process died, the run service when it
cancels a run that never started, and a reader that finds the run over with its `end` already expired.
"""

from __future__ import annotations

import uuid

import orjson

from runtime.bus import EventBus

RUN_STREAM_TTL_SECONDS = 3600  # how long a finished run's events stay for late readers and Last-Event-ID replay
END = "end"


def run_stream(run_id: uuid.UUID | str) -> str:
    return f"run:{run_id}"


def thread_stream(thread_id: uuid.UUID | str) -> str:
    """A thread's own events: `run` when a run is created on it, `state_update` when its state is updated."""
    return f"thread:{thread_id}"


def run_metadata(run_id: uuid.UUID | str) -> bytes:
    """The first event of every run's stream."""
    return orjson.dumps({"run_id": str(run_id), "attempt": 1})


def end_event(run_id: uuid.UUID | str, status: str) -> bytes:
    return orjson.dumps({"run_id": str(run_id), "status": status})


async def publish_end(bus: EventBus, run_id: uuid.UUID | str, status: str) -> str:
    return await bus.publish(run_stream(run_id), END, end_event(run_id, status))
