"""What one run stored last, kept so that the run can read its own final state back without a query.

When a run ends, the server reads the thread's state once more (`aget_state`: is anything next, which
interrupts are pending, the values for the thread row). That read is a query that joins every blob of the
checkpoint, though the run has just written that very checkpoint. A saver made by
`PooledPostgresSaver.remembering()` keeps the last root checkpoint it stored as it stored it: the checkpoint
and metadata as decoded JSON, each channel's serialized blob by version, and the writes stored against it
(decoded from what was stored). Once the executor has seen the run succeed (`trust()`), a read of that thread's
latest root checkpoint is built from these, decoding the blobs afresh on every read, so it is what Postgres
would return (live objects that a node or reducer changed in place after they were stored are never handed
out), and no reader can change what the next one gets.

Why only then: a completed run has awaited every checkpoint write it started, so what it stored last is the
thread's latest checkpoint (runs of one thread never overlap, and the API refuses state updates while one is
busy). A failed, cancelled, rolled-back or timed-out run may have a write in flight or deleted, so it reads
Postgres. So does a read of a given checkpoint id, of a subgraph's namespace, of another thread, or of a
checkpoint holding a channel whose blob this run neither stored nor read; deleting, copying or pruning
forgets everything kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, CheckpointTuple, writes_sort_key

Blob = tuple[str, bytes]  # (type, bytes), as the serializer gives and takes it


@dataclass
class CheckpointMemo:
    loads: Callable[[Blob], Any]  # the saver's serializer
    trusted: bool = False  # set by whoever saw the run succeed; until then reads go to Postgres
    thread_id: str | None = None
    checkpoint_id: str | None = None
    parent_id: str | None = None
    checkpoint: dict[str, Any] | None = None  # as stored: primitives inline in channel_values, no blobs
    metadata: dict[str, Any] | None = None
    needed: dict[str, Any] = field(default_factory=dict)  # blob channels of the checkpoint -> their version
    blobs: dict[str, tuple[Any, Blob]] = field(default_factory=dict)  # channel -> (version, blob) stored last
    # checkpoint id -> (task_path, task_id, idx) -> (task_id, channel, blob): the stored rows' key and their
    # read order. By checkpoint, since a task's writes may be stored before the checkpoint they belong to is.
    writes: dict[str, dict[tuple[str, str, int], tuple[str, str, Blob]]] = field(default_factory=dict)

    def trust(self) -> None:
        self.trusted = True

    def forget(self) -> None:
        self.trusted, self.thread_id, self.checkpoint_id, self.checkpoint = False, None, None, None
        self.needed, self.blobs, self.writes = {}, {}, {}

    def _thread(self, thread_id: str) -> None:
        if self.thread_id != thread_id:
            self.forget()
            self.thread_id = thread_id

    def stored(self, config: RunnableConfig, checkpoint: dict[str, Any], metadata: dict[str, Any],
               needed: dict[str, Any], blobs: Sequence[tuple[str, Any, Blob]]) -> None:
        """A checkpoint was stored under `config` (its parent's): `checkpoint` and `metadata` as stored (decoded
        JSON), `needed` its blob channels with their versions, `blobs` the (channel, version, blob) it wrote."""
        configurable = config["configurable"]
        if configurable.get("checkpoint_ns", ""):
            return
        self._thread(str(configurable["thread_id"]))
        for channel, version, blob in blobs:
            self.blobs[channel] = (version, blob)
        if self.checkpoint_id is not None and self.checkpoint_id > checkpoint["id"]:
            return  # an older checkpoint stored late: the newer one stays the latest
        self.checkpoint_id, self.parent_id = checkpoint["id"], configurable.get("checkpoint_id")
        self.checkpoint, self.metadata, self.needed = checkpoint, metadata, needed
        self.writes = {cid: rows for cid, rows in self.writes.items() if cid >= checkpoint["id"]}

    def read(self, thread_id: str, versions: dict[str, Any], blobs: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        """A root checkpoint of `thread_id` was read: its blob rows (channel, type, bytes) at `versions` are kept
        too, so a channel this run leaves unchanged does not send the final read to Postgres."""
        self._thread(thread_id)
        for channel, type_, blob in blobs:
            name = channel.decode()
            if name in versions and type_ != b"empty":
                self.blobs.setdefault(name, (versions[name], (type_.decode(), blob)))

    def wrote(self, config: RunnableConfig, writes: Sequence[tuple[str, Blob]], task_id: str, task_path: str) -> None:
        """A task's writes (channel, serialized value) against a checkpoint, with the saver's rules: special
        writes replace their kind, regular ones keep the first written."""
        configurable = config["configurable"]
        checkpoint_id = configurable.get("checkpoint_id")
        if configurable.get("checkpoint_ns", "") or not checkpoint_id:
            return
        self._thread(str(configurable["thread_id"]))
        rows = self.writes.setdefault(checkpoint_id, {})
        special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        for position, (channel, blob) in enumerate(writes):
            key = (task_path, task_id, WRITES_IDX_MAP.get(channel, position))
            if special or key not in rows:
                rows[key] = (task_id, channel, blob)

    def latest(self, config: RunnableConfig) -> CheckpointTuple | None:
        """This thread's latest root checkpoint as a read would return it, or None: not trusted, not asked for,
        or holding a channel whose blob this run neither stored nor read."""
        configurable = config["configurable"]
        if not self.trusted or self.checkpoint is None or configurable.get("checkpoint_ns", "") or \
                configurable.get("checkpoint_id") or str(configurable["thread_id"]) != self.thread_id:
            return None
        values = dict(self.checkpoint["channel_values"])
        for channel, version in self.needed.items():
            kept = self.blobs.get(channel)
            if kept is None or kept[0] != version:
                return None
            values[channel] = self.loads(kept[1])
        rows = self.writes.get(self.checkpoint_id, {})
        ids = {"thread_id": self.thread_id, "checkpoint_ns": ""}
        return CheckpointTuple(
            config={"configurable": {**ids, "checkpoint_id": self.checkpoint_id}},
            checkpoint={**self.checkpoint, "channel_values": values,
                        "channel_versions": dict(self.checkpoint["channel_versions"]),
                        "versions_seen": {k: dict(v) for k, v in self.checkpoint["versions_seen"].items()}},
            metadata=dict(self.metadata or {}),
            parent_config={"configurable": {**ids, "checkpoint_id": self.parent_id}} if self.parent_id else None,
            pending_writes=[(task_id, channel, self.loads(blob)) for task_id, channel, blob
                            in (rows[key] for key in sorted(rows, key=lambda k: writes_sort_key(*k)))],
        )
