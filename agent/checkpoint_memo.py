"""What one run stored last, kept so that the run can read its own final state back without Postgres.

When a run ends, the server reads the thread's state once more (`aget_state`: is anything next, which
interrupts are pending, the values for the thread row). That read fetches and decodes the whole thread, every
message of it, though the run has just written that very checkpoint: on the trivial benchmark it was 1.3 ms
of a 19 ms turn (docs/BENCHMARKS.md). A saver made by `PooledPostgresSaver.remembering()` keeps the last root
checkpoint it stored and the writes stored against it, exactly as it sent them; once the executor has seen
the run complete (`trust()`), a read of that thread's latest root checkpoint is answered from here.

Why only then: a completed run has awaited every checkpoint write it started, so what it stored last is the
thread's latest checkpoint (runs of one thread never overlap). A failed, cancelled or timed-out run may
have a write in flight whose outcome is unknown, so it reads Postgres as before. Reads of a given checkpoint
id, of a subgraph's namespace or of another thread always go to Postgres, and deleting, copying or pruning
forgets what was kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (WRITES_IDX_MAP, Checkpoint, CheckpointMetadata, CheckpointTuple,
                                       writes_sort_key)


@dataclass
class CheckpointMemo:
    trusted: bool = False  # set by whoever saw the run complete; until then reads go to Postgres
    thread_id: str | None = None
    tuple_: CheckpointTuple | None = None
    # checkpoint id -> (task_path, task_id, idx) -> (task_id, channel, value): the stored rows' key and their
    # read order. By checkpoint, since a task's writes may be stored before the checkpoint they belong to is.
    writes: dict[str, dict[tuple[str, str, int], tuple[str, str, Any]]] = field(default_factory=dict)

    def trust(self) -> None:
        self.trusted = True

    def forget(self) -> None:
        self.trusted, self.thread_id, self.tuple_ = False, None, None
        self.writes = {}

    def stored(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata) -> None:
        """A root checkpoint was stored (`config`: the one it was stored under, parent included)."""
        configurable = config["configurable"]
        if configurable.get("checkpoint_ns", ""):
            return
        thread_id, parent_id = str(configurable["thread_id"]), configurable.get("checkpoint_id")
        current = self.tuple_
        if current is not None and self.thread_id == thread_id and \
                current.config["configurable"]["checkpoint_id"] > checkpoint["id"]:
            return  # an older checkpoint stored late: the newer one stays the latest
        if self.thread_id != thread_id:
            self.writes = {}
        self.thread_id = thread_id
        self.writes = {cid: rows for cid, rows in self.writes.items() if cid >= checkpoint["id"]}
        self.tuple_ = CheckpointTuple(
            config={"configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint["id"]}},
            checkpoint=checkpoint,
            metadata=metadata,
            parent_config=({"configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": parent_id}}
                           if parent_id else None),
            pending_writes=[],
        )

    def wrote(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str) -> None:
        """A task's writes were stored against a checkpoint: kept when it is the remembered one, with the
        saver's rules (special writes replace their kind, regular ones keep the first written)."""
        configurable = config["configurable"]
        thread_id, checkpoint_id = str(configurable["thread_id"]), configurable.get("checkpoint_id")
        if configurable.get("checkpoint_ns", "") or not checkpoint_id:
            return
        if self.thread_id != thread_id:
            self.forget()
            self.thread_id = thread_id
        rows = self.writes.setdefault(checkpoint_id, {})
        special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        for position, (channel, value) in enumerate(writes):
            key = (task_path, task_id, WRITES_IDX_MAP.get(channel, position))
            if special or key not in rows:
                rows[key] = (task_id, channel, value)

    def latest(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The remembered tuple, if `config` asks for this thread's latest root checkpoint and it is trusted."""
        configurable = config["configurable"]
        if not self.trusted or self.tuple_ is None or configurable.get("checkpoint_ns", "") or \
                configurable.get("checkpoint_id") or str(configurable["thread_id"]) != self.thread_id:
            return None
        rows = self.writes.get(self.tuple_.config["configurable"]["checkpoint_id"], {})
        pending = [rows[key] for key in sorted(rows, key=lambda k: writes_sort_key(*k))]
        return self.tuple_._replace(pending_writes=pending)
