"""Cron schedules: which expressions are accepted, which time zones, and when a schedule fires next.

One home for the rule, because three places apply it: the `/runs/crons` routes (a bad schedule is a 422
naming the field), the agent's scheduling tool (a bad schedule is a message naming the argument, before anyone
is asked to approve it) and the run workers' cron scheduler (which moves a cron to its next time after firing).

Expressions are croniter's: the standard five fields (minute hour day-of-month month day-of-week), optionally a
sixth for seconds, as langgraph-api accepts them. A schedule is read in its time zone (IANA name; none means
UTC), so "0 9 * * 1" with `Europe/Berlin` fires at nine in Berlin, summer and winter alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator

SCHEDULE_HELP = ("use the cron format 'minute hour day-of-month month day-of-week', "
                 "e.g. '0 9 * * 1' for every Monday at 9:00")


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be used; the message says what to send instead."""


def check_schedule(schedule: str) -> str:
    text = (schedule or "").strip()
    if not text or not croniter.is_valid(text):
        raise ScheduleError(f"{schedule!r} is not a cron schedule; {SCHEDULE_HELP}")
    return text


def check_timezone(timezone: str | None) -> str | None:
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{timezone!r} is not a time zone; use an IANA name such as 'America/New_York' "
                            "or 'Europe/Berlin'") from None
    return timezone


def next_fire(schedule: str, timezone: str | None, after: dt.datetime) -> dt.datetime:
    """The first time strictly after `after` at which the schedule fires, in UTC."""
    base = after.astimezone(ZoneInfo(timezone)) if timezone else after.astimezone(dt.UTC)
    following: dt.datetime = croniter(schedule, base).get_next(dt.datetime)
    return following.astimezone(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time sent without a zone is taken as UTC (what langgraph-sdk sends has one)."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


# The field types every request that carries a schedule uses (the cron routes, the scheduling tool): a bad
# value is a validation error naming the field, with the sentence of the check.
Schedule = Annotated[str, AfterValidator(check_schedule)]
TimeZone = Annotated[str | None, AfterValidator(check_timezone)]
EndTime = Annotated[dt.datetime | None, AfterValidator(as_utc)]
