"""Crons through langgraph-sdk's `client.crons`: create (on a thread and not), get, patch, delete, search, count;
a cron fires on time and its run is visible; bad input is refused naming the field and changes nothing; another
user can neither see nor change a cron."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from runtime.runs.crons import run_id_for
from tests.api_helpers import ApiServer, api_server, await_until, human  # noqa: F401

CRON_KEYS = {"cron_id", "assistant_id", "thread_id", "on_run_completed", "end_time", "schedule", "timezone",
             "created_at", "updated_at", "payload", "user_id", "next_run_date", "metadata", "enabled"}
EVERY_SECOND = "* * * * * *"  # croniter's sixth field is seconds: the first time is at most a second away
MONDAYS_AT_NINE = "0 9 * * 1"


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_a_thread_cron_fires_on_time_and_its_run_is_visible(api_server: ApiServer) -> None:
    client = api_server.client("cron-fires")
    thread = await client.threads.create()
    tid = thread["thread_id"]
    cron = await client.crons.create_for_thread(tid, "test", schedule=EVERY_SECOND, input=human("tick"),
                                                metadata={"purpose": "reminders"})
    assert set(cron) == CRON_KEYS and cron["thread_id"] == tid and cron["enabled"] is True
    first = _time(cron["next_run_date"])
    expected = str(run_id_for(uuid.UUID(cron["cron_id"]), first))

    async def fired() -> list[dict[str, Any]]:
        return [r for r in await client.runs.list(tid, limit=100) if r["run_id"] == expected]

    run = (await await_until(fired, timeout=60))[0]
    assert _time(run["created_at"]) >= first  # made for its time, not before it
    assert run["metadata"] == {"purpose": "reminders", "cron_id": cron["cron_id"]}
    assert run["kwargs"]["input"] == human("tick")
    await client.runs.join(tid, expected)
    assert (await client.runs.get(tid, expected))["status"] == "success"
    async with api_server.http("cron-fires") as http:
        history = (await http.get(f"/runs/crons/{cron['cron_id']}/runs", params={"limit": 100})).json()
    assert expected in {r["run_id"] for r in history}

    paused = await client.crons.update(cron["cron_id"], enabled=False)
    assert paused["enabled"] is False and _time(paused["next_run_date"]) > first
    assert [c["cron_id"] for c in await client.crons.search(thread_id=tid, enabled=False)] == [cron["cron_id"]]
    await client.crons.delete(cron["cron_id"])
    assert await client.crons.count(thread_id=tid) == 0
    assert any(r["run_id"] == expected for r in await client.runs.list(tid, limit=100))  # its runs stay


async def test_a_cron_without_a_thread_runs_each_time_on_a_new_thread(api_server: ApiServer) -> None:
    client = api_server.client("cron-stateless")
    cron = await client.crons.create("test", schedule=EVERY_SECOND, input=human("fresh"), on_run_completed="keep")
    assert cron["thread_id"] is None and cron["on_run_completed"] == "keep"
    async with api_server.http("cron-stateless") as http:
        async def runs() -> list[dict[str, Any]]:
            return (await http.get(f"/runs/crons/{cron['cron_id']}/runs")).json()

        made = (await await_until(runs, timeout=60))[-1]
    await client.crons.delete(cron["cron_id"])
    await client.runs.join(made["thread_id"], made["run_id"])
    state = await client.threads.get_state(made["thread_id"])  # kept: the run's thread is still there
    assert [m["content"] for m in state["values"]["messages"]] == ["fresh", "echo: fresh"]


async def test_create_get_patch_search_count(api_server: ApiServer) -> None:
    client = api_server.client("cron-crud")
    thread = await client.threads.create()
    tag = uuid.uuid4().hex
    end = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    cron = await client.crons.create("agent", schedule=MONDAYS_AT_NINE, timezone="Europe/Berlin", end_time=end,
                                     input=human("remind everyone who has not signed"), metadata={"tag": tag})
    cid = cron["cron_id"]
    nine_in_berlin = _time(cron["next_run_date"]).astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert nine_in_berlin.weekday() == 0 and (nine_in_berlin.hour, nine_in_berlin.minute) == (9, 0)  # winter: UTC+1
    assert cron["on_run_completed"] == "delete" and _time(cron["end_time"]) == end
    assert cron["payload"]["input"] == human("remind everyone who has not signed")
    assert await client.crons.search(metadata={"tag": tag}) == [cron]
    on_thread = await client.crons.create_for_thread(thread["thread_id"], "test", schedule="30 8 * * *",
                                                     metadata={"tag": tag})

    assert await client.crons.count(metadata={"tag": tag}) == 2
    assert await client.crons.count(assistant_id="agent", metadata={"tag": tag}) == 1
    assert [c["cron_id"] for c in await client.crons.search(thread_id=thread["thread_id"])] == [on_thread["cron_id"]]
    by_next = await client.crons.search(metadata={"tag": tag}, sort_by="next_run_date", sort_order="asc")
    assert [c["cron_id"] for c in by_next] == sorted([cid, on_thread["cron_id"]],
                                                     key=lambda i: next(c["next_run_date"] for c in by_next
                                                                        if c["cron_id"] == i))
    assert await client.crons.search(metadata={"tag": tag}, assistant_id="agent", select=["cron_id", "schedule"]) == [
        {"cron_id": cid, "schedule": MONDAYS_AT_NINE}]

    changed = await client.crons.update(cid, schedule="0 10 * * 1", timezone="UTC", end_time=None,
                                        metadata={"team": "legal"}, input=human("remind them again"))
    assert changed["schedule"] == "0 10 * * 1" and changed["timezone"] == "UTC" and changed["end_time"] is None
    assert _time(changed["next_run_date"]).hour == 10 and changed["metadata"] == {"tag": tag, "team": "legal"}
    assert changed["payload"]["input"] == human("remind them again")
    assert changed["payload"]["metadata"] == {"tag": tag, "team": "legal"}
    async with api_server.http("cron-crud") as http:
        assert (await http.get(f"/runs/crons/{cid}")).json() == changed
    await client.crons.delete(cid)
    async with api_server.http("cron-crud") as http:
        assert (await http.get(f"/runs/crons/{cid}")).status_code == 404
    await client.crons.delete(on_thread["cron_id"])


async def _refused(http: httpx.AsyncClient, method: str, path: str, body: Any, status: int, field: str) -> None:
    response = await http.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field, response.json()


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(api_server: ApiServer) -> None:
    client = api_server.client("cron-bad")
    thread = (await client.threads.create())["thread_id"]
    cron = await client.crons.create_for_thread(thread, "test", schedule=MONDAYS_AT_NINE)
    cid = cron["cron_id"]
    ok = {"assistant_id": "test", "schedule": MONDAYS_AT_NINE}
    async with api_server.http("cron-bad") as http:
        for body, field in [({**ok, "schedule": "every monday"}, "schedule"),
                            ({**ok, "schedule": "61 * * * *"}, "schedule"),
                            ({"assistant_id": "test"}, "schedule"),
                            ({**ok, "timezone": "Mars/Olympus"}, "timezone"),
                            ({**ok, "webhook": "https://example.com/hook"}, "webhook"),
                            ({**ok, "stream_mode": "everything"}, "stream_mode"),
                            ({**ok, "end_time": "next tuesday"}, "end_time"),
                            ({**ok, "on_run_completed": "archive"}, "on_run_completed"),
                            ({**ok, "config": {"configurable": {"a": 1}}, "context": {"a": 1}}, "context")]:
            await _refused(http, "POST", "/runs/crons", body, 422, field)
        await _refused(http, "POST", "/runs/crons", {**ok, "assistant_id": "nobody"}, 404, "assistant_id")
        await _refused(http, "POST", f"/threads/{uuid.uuid4()}/runs/crons", ok, 404, "thread_id")
        await _refused(http, "POST", "/threads/not-a-uuid/runs/crons", ok, 422, "thread_id")
        await _refused(http, "POST", "/runs/crons/search", {"select": ["password"]}, 422, "select.0")
        await _refused(http, "POST", "/runs/crons/search", {"sort_by": "schedule"}, 422, "sort_by")
        await _refused(http, "POST", "/runs/crons/search", {"limit": 0}, 422, "limit")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {}, 422, "body")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"schedule": "nope"}, 422, "schedule")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"timezone": "Nowhere/Town"}, 422, "timezone")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"on_run_completed": "keep"}, 422, "on_run_completed")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"stream_mode": ["values", "x"]}, 422, "stream_mode")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"config": {"configurable": {"a": 1}},
                                                             "context": {"b": 2}}, 422, "context")
        await _refused(http, "PATCH", f"/runs/crons/{cid}", {"webhook": "https://example.com/h"}, 422, "webhook")
        await _refused(http, "PATCH", f"/runs/crons/{uuid.uuid4()}", {"enabled": False}, 404, "cron_id")
        await _refused(http, "GET", "/runs/crons/not-a-uuid", None, 422, "cron_id")
        await _refused(http, "DELETE", f"/runs/crons/{uuid.uuid4()}", None, 404, "cron_id")
        assert (await http.get(f"/runs/crons/{cid}")).json() == cron  # nothing changed
    assert await client.crons.count() == 1
    await client.crons.delete(cid)


async def test_another_users_cron_is_not_there(api_server: ApiServer) -> None:
    owner, stranger = api_server.client("cron-owner"), api_server.client("cron-stranger")
    thread = (await owner.threads.create())["thread_id"]
    cron = await owner.crons.create_for_thread(thread, "test", schedule=MONDAYS_AT_NINE)
    cid = cron["cron_id"]
    assert await stranger.crons.search() == [] and await stranger.crons.count() == 0
    async with api_server.http("cron-stranger") as http:
        for method, path, body in [("GET", f"/runs/crons/{cid}", None), ("PATCH", f"/runs/crons/{cid}",
                                   {"enabled": False}), ("DELETE", f"/runs/crons/{cid}", None),
                                   ("GET", f"/runs/crons/{cid}/runs", None),
                                   ("POST", f"/threads/{thread}/runs/crons", {"assistant_id": "test",
                                                                               "schedule": MONDAYS_AT_NINE})]:
            response = await http.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
    assert (await owner.crons.search()) == [cron]  # unchanged, still theirs alone
    with pytest.raises(httpx.HTTPStatusError):
        await stranger.crons.update(cid, schedule="* * * * *")
    assert (await owner.crons.search())[0]["schedule"] == MONDAYS_AT_NINE
    await owner.crons.delete(cid)
