"""Run requests of the LangGraph-compatible API, as the official SDKs and agent-chat-ui send them.

These models are what FastAPI validates (a wrong type is a 422 naming the field) and what `/openapi.json`
documents. Unknown fields are ignored rather than refused, so a newer SDK that adds an optional field keeps
working; fields we know but cannot honour (e.g. `webhook`) are refused with a message naming them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationInfo, field_validator, model_validator

from db.models.threads import MULTITASK_STRATEGIES, RUN_STATUSES
from db.storable import INT64_MAX

StreamModeName = Literal[
    "values", "updates", "messages", "messages-tuple", "custom", "debug", "tasks", "checkpoints", "events"
]
SUPPORTED_STREAM_MODES: tuple[str, ...] = StreamModeName.__args__  # type: ignore[attr-defined]
MultitaskStrategy = Literal[MULTITASK_STRATEGIES]  # type: ignore[valid-type]
RunStatus = Literal[RUN_STATUSES]  # type: ignore[valid-type]


# A JSON integer, as the schema says: `false`, `1.0` and `"1"` are refused rather than read as 0, 1 and 1.
Int = Annotated[int, Strict()]
# A JSON boolean: `0`, `1` and `"yes"` are refused rather than read as false, true and true.
Bool = Annotated[bool, Strict()]
# How far into a list a page may start: any 64-bit offset (Postgres' OFFSET is a bigint).
Offset = Annotated[int, Strict(), Field(ge=0, le=INT64_MAX)]


class Body(BaseModel):
    """A request body: unknown fields are ignored, so a newer SDK's optional additions do not break it."""

    model_config = ConfigDict(extra="ignore")


class Checkpoint(Body):
    thread_id: str | None = None
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, Any] | None = None


class RunConfig(Body):
    model_config = ConfigDict(extra="allow")
    tags: list[str] | None = None
    recursion_limit: Int | None = Field(default=None, ge=1, le=10_000)
    configurable: dict[str, Any] | None = None


class SendItem(Body):
    node: str
    input: Any = None


class RunCommand(Body):
    """`resume` answers an `interrupt()`; for approvals it is `{"decisions": [...]}`."""

    resume: Any = None
    update: dict[str, Any] | list[Any] | None = None
    goto: str | SendItem | list[str | SendItem] | None = None


def stream_modes(value: Any) -> list[str]:
    if value is None:
        return ["values"]
    if not isinstance(value, str | list | tuple):
        raise ValueError("must be a stream mode or a list of stream modes")
    modes = [value] if isinstance(value, str) else list(value)
    for mode in modes:
        if not isinstance(mode, str):
            raise ValueError("each stream mode must be a string")
        if mode not in SUPPORTED_STREAM_MODES:
            raise ValueError(f"unknown stream mode {mode!r}; supported: {', '.join(SUPPORTED_STREAM_MODES)}")
    return modes or ["values"]


class RunCreate(Body):
    """A run on a thread (`/threads/{id}/runs*`) or a stateless one (`/runs*`)."""

    assistant_id: str = Field(min_length=1, max_length=100, description="Assistant id or graph id, e.g. `agent`.")
    input: dict[str, Any] | list[Any] | str | int | float | bool | None = None
    command: RunCommand | None = Field(default=None, description="Wins over `input` when both are sent.")
    stream_mode: list[str] = Field(default_factory=lambda: ["values"], description="A mode or a list of modes.")
    stream_subgraphs: Bool = False
    stream_resumable: Bool = False
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None
    checkpoint_during: Bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: MultitaskStrategy | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    feedback_keys: list[str] | None = None
    webhook: str | None = Field(default=None, description="Not supported by this server; refused.")

    @field_validator("stream_mode", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> list[str]:
        return stream_modes(value)

    @field_validator("context")
    @classmethod
    def _one_of_context_or_configurable(cls, value: dict[str, Any] | None, info: ValidationInfo) -> Any:
        config = info.data.get("config")
        if value and config is not None and config.configurable:
            raise ValueError("send either config.configurable or context, not both")
        return value

    @field_validator("webhook")
    @classmethod
    def _no_webhooks(cls, value: str | None) -> str | None:
        if value:
            raise ValueError("run webhooks are not supported by this server; join the run or poll it instead")
        return value


class RunsCancel(Body):
    """Either `thread_id` with `run_ids`, or `status`: every pending and/or running run of the caller."""

    thread_id: str | None = None
    run_ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    status: Literal["pending", "running", "all"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RunsCancel:
        if (self.run_ids is None) == (self.status is None):
            raise ValueError("send either thread_id with run_ids, or status (pending, running or all)")
        if self.run_ids is not None and not self.thread_id:
            raise ValueError("run_ids need the thread_id they belong to")
        return self
