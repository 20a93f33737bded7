"""Scheduled tasks ("every Monday at 9, remind everyone who has not signed"): setting one up stops for a
person's approval, and only then makes the cron on the conversation's thread; listing and cancelling need none;
bad schedules are answered naming the argument before anyone is asked."""

from __future__ import annotations

import uuid
from typing import Any

from agent_helpers import Chat, interrupts, tool_results
from langchain_core.messages import AIMessage

from db import crons
from runtime.runs import store
from runtime.runs.crons import run_request
from tools.base import execute
from tools.registry import BY_NAME
from tools.schedules import TASK_PREFIX

APPROVE = {"type": "approve"}
EVERY_MONDAY = {"instruction": "remind everyone who has not signed yet", "schedule": "0 9 * * 1",
                "timezone": "Europe/Berlin"}


async def _with_thread(chat: Chat) -> Chat:
    """The conversation's thread row, as our server has it for every run (crons belong to a thread)."""
    async with chat.database.user_session(chat.user_id) as session:
        await store.insert_thread(session, chat.user_id, uuid.UUID(chat.thread_id), {})
    return chat


async def _model_calls(chat: Chat, name: str, args: dict[str, Any]) -> dict[str, Any]:
    call = {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:8]}", "type": "tool_call"}
    await chat.graph.aupdate_state(chat.config, {"messages": [AIMessage(content="", tool_calls=[call])]},
                                   as_node="model")
    return await chat.graph.ainvoke(None, chat.config, context=chat.context)  # type: ignore[no-any-return]


async def _crons(chat: Chat) -> list[Any]:
    async with chat.database.user_session(chat.user_id) as session:
        return await crons.search(session, thread_id=uuid.UUID(chat.thread_id), limit=100)


async def test_scheduling_waits_for_approval_then_makes_the_cron(chat: Chat) -> None:
    chat = await _with_thread(chat)
    assert BY_NAME["schedule_task"].needs_approval(EVERY_MONDAY, confirm_reminders=False)
    state = await _model_calls(chat, "schedule_task", EVERY_MONDAY)
    request = interrupts(state)[0]["action_requests"][0]
    assert request["name"] == "schedule_task"
    assert "remind everyone who has not signed yet" in request["description"]
    assert "first runs: Mon" in request["description"] and "09:00 Europe/Berlin" in request["description"]
    assert await _crons(chat) == []  # nothing is scheduled before a person decides

    state = await chat.resume(APPROVE)
    name, payload = next(r for r in tool_results(state) if r[0] == "schedule_task")
    assert "error" not in payload, payload
    [row] = await _crons(chat)
    assert str(row.cron_id) == payload["task_id"] and row.schedule == "0 9 * * 1"
    assert row.timezone == "Europe/Berlin" and row.enabled and row.assistant_id == "agent"
    fired = run_request(row)  # what the run workers will start each Monday: a valid run of the same agent
    assert fired.assistant_id == "agent" and fired.multitask_strategy == "enqueue"
    assert fired.input == {"messages": [{"role": "user", "content": TASK_PREFIX + EVERY_MONDAY["instruction"]}]}
    assert fired.metadata and fired.metadata["cron_id"] == payload["task_id"]


async def test_a_rejected_schedule_makes_nothing(chat: Chat) -> None:
    chat = await _with_thread(chat)
    await _model_calls(chat, "schedule_task", EVERY_MONDAY)
    state = await chat.resume({"type": "reject", "message": "no, I'll do it myself"})
    assert next(p for n, p in tool_results(state) if n == "schedule_task")["error"] == "rejected"
    assert await _crons(chat) == []


async def test_bad_schedules_are_answered_before_anyone_is_asked(chat: Chat) -> None:
    chat = await _with_thread(chat)
    for args, field in [({**EVERY_MONDAY, "schedule": "every monday"}, "schedule"),
                        ({**EVERY_MONDAY, "timezone": "Mars/Olympus"}, "timezone"),
                        ({**EVERY_MONDAY, "end_time": "2020-01-01T00:00:00Z"}, "end_time"),
                        ({**EVERY_MONDAY, "instruction": ""}, "instruction")]:
        state = await _model_calls(chat, "schedule_task", args)
        assert not interrupts(state), args
        assert next(p for n, p in tool_results(state)[::-1] if n == "schedule_task")["field"] == field
    assert await _crons(chat) == []


async def test_list_and_cancel(chat: Chat) -> None:
    chat = await _with_thread(chat)
    ctx = chat.tool_context("direct")
    made = await execute(BY_NAME["schedule_task"], EVERY_MONDAY, ctx)  # as the tool node runs an approved call
    listed = await execute(BY_NAME["list_scheduled_tasks"], {}, ctx)
    assert [t["task_id"] for t in listed["tasks"]] == [made["task_id"]] and listed["tasks"][0]["this_conversation"]
    unknown = await execute(BY_NAME["cancel_scheduled_task"], {"task_id": str(uuid.uuid4())}, ctx)
    assert unknown["error"] == "unknown_task" and unknown["field"] == "task_id"
    assert len(await _crons(chat)) == 1
    cancelled = await execute(BY_NAME["cancel_scheduled_task"], {"task_id": made["task_id"]}, ctx)
    assert "will not run again" in cancelled["summary"]
    assert await _crons(chat) == [] and (await execute(BY_NAME["list_scheduled_tasks"], {}, ctx))["tasks"] == []
    assert not BY_NAME["list_scheduled_tasks"].needs_approval({}) and not BY_NAME["cancel_scheduled_task"].needs_approval({})
