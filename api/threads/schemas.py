"""Request bodies of `/threads`, as the official SDKs and agent-chat-ui send them (validated by FastAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from db.models.threads import THREAD_STATUSES
from runtime.runs.schemas import Body, Bool, Checkpoint, Int, Offset

ThreadStatus = Literal[THREAD_STATUSES]  # type: ignore[valid-type]


class ThreadCreate(Body):
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    supersteps: list[dict[str, Any]] | None = None
    ttl: dict[str, Any] | Int | None = None


class ThreadPatch(Body):
    metadata: dict[str, Any] = Field(default_factory=dict)
    ttl: dict[str, Any] | Int | None = None


class ThreadSearch(Body):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: list[str] | None = None
    status: ThreadStatus | None = None
    limit: Int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class ThreadCount(Body):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: ThreadStatus | None = None


class ThreadStateUpdate(Body):
    values: dict[str, Any] | list[Any] | None = None
    as_node: str | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None


class ThreadStateCheckpoint(Body):
    checkpoint: Checkpoint
    subgraphs: Bool = False


class ConfigWithCheckpoint(Body):
    """The SDK's typed `before`: a config, `{"configurable": {"checkpoint_id": ...}}`."""

    configurable: Checkpoint


class ThreadHistory(Body):
    limit: Int = Field(default=10, ge=1, le=1000)
    before: str | ConfigWithCheckpoint | Checkpoint | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    select: list[str] | None = None

    def before_checkpoint_id(self) -> str | None:
        if isinstance(self.before, ConfigWithCheckpoint):
            return self.before.configurable.checkpoint_id
        if isinstance(self.before, Checkpoint):
            return self.before.checkpoint_id
        return self.before or None


class ThreadPrune(Body):
    thread_ids: list[str] = Field(max_length=1000)
    strategy: Literal["delete", "keep_latest"] = "delete"
