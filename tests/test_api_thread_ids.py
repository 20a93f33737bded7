"""Naming a thread id on create never tells whether another user has a thread by that id.

Ids are unique across users, so another user's id cannot simply be created anew; it gets exactly the answer
a reserved id (one no thread can have) gets: 409 `thread_id_unavailable`, and nothing changes for its owner.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.api_helpers import ApiServer, api_server, human  # noqa: F401

RESERVED = str(uuid.UUID(int=0))


def without_id(body: dict[str, Any], thread_id: str) -> dict[str, Any]:
    return {k: v.replace(thread_id, "<id>") if isinstance(v, str) else v for k, v in body.items()}


async def test_another_users_thread_id_answers_as_a_reserved_id(api_server: ApiServer) -> None:
    owner = api_server.client("ids-owner")
    theirs = (await owner.threads.create(metadata={"topic": "private"}))["thread_id"]
    async with api_server.http("ids-stranger") as http:
        answers = {}
        for name, tid in (("theirs", theirs), ("reserved", RESERVED)):
            for if_exists in ("raise", "do_nothing"):
                response = await http.post("/threads", json={"thread_id": tid, "if_exists": if_exists})
                answers[name, if_exists] = (response.status_code, without_id(response.json(), tid))
            run = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "test", "input": human("hi"),
                                                                  "if_not_exists": "create"})
            answers[name, "run"] = (run.status_code, without_id(run.json(), tid))
        for kind in ("raise", "do_nothing", "run"):
            assert answers["theirs", kind] == answers["reserved", kind], kind
        status, body = answers["theirs", "raise"]
        assert status == 409 and body["error"] == "thread_id_unavailable" and body["field"] == "thread_id"
        assert "leave thread_id out" in body["message"]
        assert (await http.post("/threads/search", json={})).json() == []  # the stranger got no thread
    # The owner's thread is as it was, with no run on it.
    thread = await owner.threads.get(theirs)
    assert thread["metadata"] == {"topic": "private"} and thread["status"] == "idle"
    assert await owner.runs.list(theirs) == []


async def test_own_thread_id_still_conflicts_or_is_returned(api_server: ApiServer) -> None:
    client = api_server.client("ids-self")
    tid = (await client.threads.create())["thread_id"]
    async with api_server.http("ids-self") as http:
        again = await http.post("/threads", json={"thread_id": tid})
        assert (again.status_code, again.json()["error"]) == (409, "conflict")
        same = await http.post("/threads", json={"thread_id": tid, "if_exists": "do_nothing"})
        assert same.status_code == 200 and same.json()["thread_id"] == tid
