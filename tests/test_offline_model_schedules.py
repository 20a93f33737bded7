"""Requests that should happen on their own later become schedule_task calls (a cron, its time zone and end),
in other words than the eval dataset's; listing and cancelling scheduled tasks find the task meant."""

from __future__ import annotations

from typing import Any

import pytest

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import assert_one_call, converse, first_step
    from tests.test_offline_model_support import GUID
except ImportError:
    from test_offline_model_planner import assert_one_call, converse, first_step
    from test_offline_model_support import GUID

# TODAY is Wednesday 2025-03-12.
SCHEDULED: list[tuple[str, dict[str, Any]]] = [
    ("each Friday at 4pm chase whoever still has to sign",
     {"instruction": "remind whoever still has to sign", "schedule": "0 16 * * 5"}),
    ("on weekdays at 8:30 remind the pending signers, New York time",
     {"instruction": "remind the pending signers", "schedule": "30 8 * * 1-5", "timezone": "America/New_York"}),
    ("set up a daily reminder for everyone who hasn't signed",
     {"instruction": "remind everyone who hasn't signed", "schedule": "0 9 * * *"}),
    ("Tuesdays and Thursdays at noon, ping the signers who are still outstanding",
     {"instruction": "remind the signers who are still outstanding", "schedule": "0 12 * * 2,4"}),
    (f"remind the signers of {GUID} every morning until March 21",
     {"instruction": f"remind the signers of {GUID}", "schedule": "0 9 * * *", "end_time": "2025-03-21T23:59:00"}),
    ("on the 15th of each month send the Offer Letter template to payroll@x.com",
     {"instruction": "send the Offer Letter template to payroll@x.com", "schedule": "0 9 15 * *"}),
    ("this coming Monday send the NDA template to lee@x.com",
     {"instruction": "send the NDA template to lee@x.com", "schedule": "0 9 17 3 *", "end_time": "2025-03-18T23:59:00"}),
    ("tomorrow at 10am remind bob@x.com about the MSA",
     {"instruction": "remind bob@x.com about the MSA", "schedule": "0 10 13 3 *"}),
    ("starting tomorrow, nudge whoever has not signed every day at 9",
     {"instruction": "remind whoever has not signed", "schedule": "0 9 * * *"}),
    ("could you set things up so that each evening you chase the outstanding signers",
     {"instruction": "remind the outstanding signers", "schedule": "0 18 * * *"}),
    ("follow up with carl@x.com next week", {"instruction": "remind carl@x.com", "schedule": "0 9 17 3 *"}),
    (f"on Friday void {GUID} because the offer expires",
     {"instruction": f"void {GUID} because the offer expires", "schedule": "0 9 14 3 *"}),
    ("send the Offer Letter template to hr@x.com on the last day of every month",
     {"instruction": "send the Offer Letter template to hr@x.com", "schedule": "0 9 L * *"}),
    ("each first day of the month remind all pending signers",
     {"instruction": "remind all pending signers", "schedule": "0 9 1 * *"}),
    ("every week remind the people on my pending envelopes for the next 3 weeks",
     {"instruction": "remind the people on my pending envelopes", "schedule": "0 9 * * 1",
      "end_time": "2025-04-02T23:59:00"}),
]


@pytest.mark.parametrize(("text", "expected"), SCHEDULED, ids=[row[0][:50] for row in SCHEDULED])
def test_timed_requests_are_scheduled(text: str, expected: dict[str, Any]) -> None:
    assert_one_call(first_step(text), "schedule_task", expected)


@pytest.mark.parametrize("text", [
    "send the NDA to bob@x.com by Friday",
    "void the NDA, the deal was cancelled on Friday",
    "remind everyone on my pending envelopes",
    "cancel every pending envelope to bob@x.com because of a typo",
])
def test_deadlines_and_past_days_are_not_schedules(text: str) -> None:
    decided = first_step(text)
    assert "schedule_task" not in [name for name, _ in decided.tool_calls], decided.tool_calls


def test_a_schedule_with_nothing_to_do_asks_what() -> None:
    decided = first_step("every Monday at 9")
    assert not decided.tool_calls and "What should I do" in decided.content


@pytest.mark.parametrize("text", ["which recurring jobs are set up?", "show my scheduled tasks",
                                  "any automations running for me?"])
def test_listing_scheduled_tasks(text: str) -> None:
    assert_one_call(first_step(text), "list_scheduled_tasks", {})


TASKS = {"summary": "You have 2 scheduled tasks.", "tasks": [
    {"task_id": GUID, "instruction": "remind everyone who hasn't signed yet", "schedule": "0 9 * * 1",
     "next_run": "Mon 17 Mar 2025 09:00 UTC"},
    {"task_id": "9f8e7d6c-0000-4000-8000-000000000001", "instruction": "send the NDA template to lee@x.com",
     "schedule": "0 9 1 * *", "next_run": "Tue 01 Apr 2025 09:00 UTC"}]}


@pytest.mark.parametrize(("text", "task_ids"), [
    ("turn off the Monday reminders", [GUID]),
    ("no more weekly nudges please, delete that job", [GUID]),
    ("cancel the scheduled NDA send to lee@x.com", ["9f8e7d6c-0000-4000-8000-000000000001"]),
    ("delete all my scheduled tasks", [GUID, "9f8e7d6c-0000-4000-8000-000000000001"]),
    ("stop reminding everyone every Monday", [GUID]),
    ("unschedule all of it", [GUID, "9f8e7d6c-0000-4000-8000-000000000001"]),
])
def test_cancel_finds_the_task_meant(text: str, task_ids: list[str]) -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "list_scheduled_tasks":
            return TASKS
        assert name == "cancel_scheduled_task"
        return {"summary": f"I cancelled {args['task_id']}."}

    answer, calls, _ = converse(text, respond)
    assert calls[0] == ("list_scheduled_tasks", {})
    assert [args["task_id"] for name, args in calls[1:]] == task_ids


def test_cancel_that_matches_several_tasks_asks_which() -> None:
    answer, calls, _ = converse("stop the scheduled job", lambda name, args: TASKS)
    assert [name for name, _ in calls] == ["list_scheduled_tasks"]
    assert "Which one should I cancel?" in answer and GUID in answer


def test_cancel_with_no_tasks_says_so() -> None:
    answer, calls, _ = converse("stop the weekly reminder you set up",
                                lambda name, args: {"summary": "You have no scheduled tasks.", "tasks": []})
    assert [name for name, _ in calls] == ["list_scheduled_tasks"] and "no scheduled tasks" in answer
