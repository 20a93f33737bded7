"""Tasks the agent does again and again on its own: "every Monday at 9, remind everyone who has not signed".

A scheduled task is a cron on the conversation's thread (the same row `/runs/crons` makes): at each time of its
schedule the run workers start a run of this conversation's assistant with the task's instruction as the
message. Setting one up needs a person's approval, since from then on the agent acts without anyone asking; the
runs it makes go through the same approval gate as any other, so a call that needs approval still stops for
one. Listing and cancelling need none (cancelling only stops future runs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from db import crons
from docusign_agent.schedules import EndTime, Schedule, TimeZone, next_fire
from tools.base import ToolSpec
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import _Args

TASK_PREFIX = "Scheduled task: "
CREATED_BY = "schedule_task"  # in the metadata of the crons this tool makes (the ones it lists and cancels)
DEFAULT_ASSISTANT = "agent"


class ScheduleTaskArgs(_Args):
    instruction: str = Field(min_length=1, max_length=1000, description="What to do each time, as the user would "
                             "ask it, e.g. 'remind everyone who has not signed yet'")
    schedule: Schedule = Field(description="Cron format 'minute hour day-of-month month day-of-week', "
                               "e.g. '0 9 * * 1' for every Monday at 9:00")
    timezone: TimeZone = Field(default=None, description="IANA time zone of the schedule, e.g. "
                               "'America/New_York'; omit for UTC")
    end_time: EndTime = Field(default=None, description="Stop after this date and time (ISO 8601)")


class ListScheduledTasksArgs(_Args):
    pass


class CancelScheduledTaskArgs(_Args):
    task_id: uuid.UUID = Field(description="The id list_scheduled_tasks gives for the task")


def upcoming(args: ScheduleTaskArgs, now: dt.datetime, count: int = 3) -> list[dt.datetime]:
    times, after = [], now
    while len(times) < count:
        after = next_fire(args.schedule, args.timezone, after)
        if args.end_time is not None and after > args.end_time:
            break
        times.append(after)
    return times


def _local(when: dt.datetime, timezone: str | None) -> str:
    local = when.astimezone(ZoneInfo(timezone)) if timezone else when
    return local.strftime("%a %d %b %Y %H:%M ") + (timezone or "UTC")


def _thread(ctx: ToolContext) -> uuid.UUID:
    try:
        return uuid.UUID(str(ctx.thread_id))
    except ValueError:
        raise ToolFailure("no_conversation", "A scheduled task belongs to a conversation, and this run has none "
                          "I can attach it to.") from None


async def precheck_schedule(ctx: ToolContext, args: ScheduleTaskArgs) -> dict[str, str]:
    _thread(ctx)
    times = upcoming(args, dt.datetime.now(dt.UTC))
    if not times:
        raise ToolFailure("invalid_argument", "end_time: the schedule never runs before the end time",
                          field="end_time")
    return {"next": ", ".join(_local(t, args.timezone) for t in times)}


async def schedule_task(ctx: ToolContext, args: ScheduleTaskArgs) -> dict[str, Any]:
    facts = await precheck_schedule(ctx, args)
    assistant = ctx.assistant_id or DEFAULT_ASSISTANT
    metadata = {"created_by": CREATED_BY, "instruction": args.instruction}
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await crons.insert(
            session, user_id=ctx.user_id, assistant_id=assistant, thread_id=_thread(ctx), schedule=args.schedule,
            timezone=args.timezone, end_time=args.end_time, enabled=True, on_run_completed=None,
            payload={"assistant_id": assistant, "metadata": metadata, "multitask_strategy": "enqueue",
                     "input": {"messages": [{"role": "user", "content": TASK_PREFIX + args.instruction}]}},
            metadata_=metadata, next_run_date=next_fire(args.schedule, args.timezone, dt.datetime.now(dt.UTC)))
    return ok(f"Scheduled “{args.instruction}”; it will next run {facts['next'].split(', ')[0]}. Any step that "
              "needs approval will still wait for you.", task_id=str(row.cron_id), next_runs=facts["next"])


async def list_scheduled_tasks(ctx: ToolContext, args: ListScheduledTasksArgs) -> dict[str, Any]:
    async with ctx.database.user_session(ctx.user_id) as session:
        rows = await crons.search(session, metadata={"created_by": CREATED_BY}, limit=100,
                                  sort_by="next_run_date", sort_order="asc")
    tasks = [{"task_id": str(r.cron_id), "instruction": (r.metadata_ or {}).get("instruction"),
              "schedule": r.schedule, "timezone": r.timezone, "enabled": r.enabled,
              "next_run": _local(r.next_run_date, r.timezone), "this_conversation": str(r.thread_id) == ctx.thread_id}
             for r in rows]
    if not tasks:
        return ok("You have no scheduled tasks.", tasks=[])
    return ok(f"You have {len(tasks)} scheduled task{'s' if len(tasks) != 1 else ''}: " + "; ".join(
        f"“{t['instruction']}” next {t['next_run']}" for t in tasks) + ".", tasks=tasks)


async def cancel_scheduled_task(ctx: ToolContext, args: CancelScheduledTaskArgs) -> dict[str, Any]:
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await crons.get(session, args.task_id, lock=True)
        if row is None or (row.metadata_ or {}).get("created_by") != CREATED_BY:
            raise ToolFailure("unknown_task", f"I have no scheduled task {args.task_id}; list_scheduled_tasks "
                              "shows the ones there are.", field="task_id")
        await crons.remove(session, args.task_id)
    return ok(f"I cancelled “{(row.metadata_ or {}).get('instruction')}”; it will not run again.")


SPECS = [
    ToolSpec("schedule_task", "Do something again and again on a schedule, on its own, in this conversation "
             "(e.g. every Monday at 9 remind everyone who has not signed). Needs the user's approval.",
             ScheduleTaskArgs, schedule_task, approval="always", precheck=precheck_schedule,
             docusign_call="none itself; each run it starts makes its own calls, approved as usual", effect="write"),
    ToolSpec("list_scheduled_tasks", "List the user's scheduled tasks and when each runs next.",
             ListScheduledTasksArgs, list_scheduled_tasks, effect="read"),
    ToolSpec("cancel_scheduled_task", "Cancel a scheduled task so it does not run again.",
             CancelScheduledTaskArgs, cancel_scheduled_task, effect="destructive", idempotent=True),
]
