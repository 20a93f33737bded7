"""Cron requests of the LangGraph-compatible API (`/runs/crons`, `/threads/{id}/runs/crons`), as
langgraph-sdk's `client.crons` sends them.

A cron is a run request plus when to make it: the run's part is validated by `RunCreate` itself (the same
stream modes, the same "config.configurable or context" rule, webhooks refused), so a cron can never hold a
run that would be refused when it fires; the schedule and time zone by `docusign_agent.schedules`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from db.crons import SORTABLE
from db.models.crons import ON_RUN_COMPLETED
from docusign_agent.schedules import EndTime, Schedule, TimeZone
from runtime.runs.schemas import Body, Bool, Int, Offset, RunCreate, stream_modes

# The parts of a run request a cron keeps and sends with each run it makes.
PAYLOAD_FIELDS = ("assistant_id", "input", "metadata", "config", "context", "checkpoint_during",
                  "interrupt_before", "interrupt_after", "multitask_strategy", "stream_mode", "stream_subgraphs",
                  "stream_resumable", "durability")
# What `select` may name (langgraph-sdk's CronSelectField).
CRON_FIELDS = ("cron_id", "assistant_id", "thread_id", "end_time", "schedule", "timezone", "created_at",
               "updated_at", "user_id", "payload", "next_run_date", "metadata", "now", "on_run_completed", "enabled")
OnRunCompleted = Literal[ON_RUN_COMPLETED]  # type: ignore[valid-type]
CronSortBy = Literal[SORTABLE]  # type: ignore[valid-type]
CronField = Literal[CRON_FIELDS]  # type: ignore[valid-type]


class _When(Body):
    """What every cron body may say about time, checked the same way on create and on patch."""

    timezone: TimeZone = Field(default=None, description="IANA time zone of the schedule; none means UTC.")
    end_time: EndTime = Field(default=None, description="No runs after this time.")


class CronCreate(RunCreate, _When):
    schedule: Schedule = Field(description="Cron format, e.g. `0 9 * * 1` (every Monday at 9:00); a sixth "
                                           "field for seconds is accepted.")
    enabled: Bool = True
    on_run_completed: OnRunCompleted | None = Field(
        default=None, description="Crons without a thread: delete (default) or keep each run's thread.")


class CronPatch(_When):
    """Only the fields sent change; `end_time: null` clears the end time, `metadata` is merged."""

    schedule: Schedule | None = None
    enabled: Bool | None = None
    on_run_completed: OnRunCompleted | None = None
    input: Any = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: str | None = None
    stream_mode: list[str] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: str | None = None
    webhook: str | None = None

    @field_validator("stream_mode", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> list[str] | None:
        return None if value is None else stream_modes(value)

    def run_changes(self) -> dict[str, Any]:
        """The run fields sent (validated when laid over the cron's payload, by RunCreate)."""
        sent = self.model_fields_set & (set(PAYLOAD_FIELDS) | {"webhook"})
        return {k: v for k, v in self.model_dump(include=sent).items() if v is not None}


class CronSearch(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: Bool | None = None
    metadata: dict[str, Any] | None = None
    limit: Int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: CronSortBy | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[CronField] | None = None


class CronCount(Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
