"""Assistants a user makes over a graph: create, read, patch (versions), latest, delete, subgraphs; runs use
their config; the graphs' defaults stay as they are; another user's assistant is not there."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api_helpers import ApiServer, api_server, human  # noqa: F401

ASSISTANT_KEYS = {"assistant_id", "graph_id", "config", "context", "metadata", "version", "name", "description",
                  "created_at", "updated_at"}


async def test_create_patch_versions_latest_delete(api_server: ApiServer) -> None:
    client = api_server.client("asst-owner")
    tag = uuid.uuid4().hex
    formal = await client.assistants.create(
        "agent", config={"configurable": {"tone": "formal", "instructions": "Always CC legal@example.com."}},
        metadata={"tag": tag}, name="Formal", description="formal, always CC legal")
    aid = formal["assistant_id"]
    assert set(formal) == ASSISTANT_KEYS and formal["version"] == 1 and uuid.UUID(aid)
    assert formal["context"] == {"tone": "formal", "instructions": "Always CC legal@example.com."}
    assert await client.assistants.get(aid) == formal

    patched = await client.assistants.update(aid, context={"tone": "concise"}, metadata={"team": "legal"})
    assert patched["version"] == 2 and patched["config"]["configurable"] == {"tone": "concise"}
    assert patched["metadata"] == {"tag": tag, "team": "legal"} and patched["name"] == "Formal"
    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1] and "updated_at" not in versions[0]
    assert [v["version"] for v in await client.assistants.get_versions(aid, metadata={"team": "legal"})] == [2]
    back = await client.assistants.set_latest(aid, 1)
    assert back["version"] == 1 and back["context"]["tone"] == "formal"

    found = await client.assistants.search(metadata={"tag": tag})
    assert [a["assistant_id"] for a in found] == [aid]
    every = await client.assistants.search(graph_id="agent", limit=100)
    assert {"agent", aid} <= {a["assistant_id"] for a in every}
    assert await client.assistants.count(metadata={"tag": tag}) == 1
    assert (await client.assistants.search(metadata={"tag": tag}, select=["assistant_id", "version"])) == [
        {"assistant_id": aid, "version": 1}]
    assert (await client.assistants.get_graph(aid))["nodes"]
    assert (await client.assistants.get_schemas(aid))["graph_id"] == "agent"
    assert await client.assistants.get_subgraphs(aid) == {}

    again = await client.assistants.create("agent", assistant_id=aid, if_exists="do_nothing")
    assert again["assistant_id"] == aid and again["version"] == 1
    with pytest.raises(httpx.HTTPStatusError) as taken:
        await client.assistants.create("agent", assistant_id=aid)
    assert taken.value.response.status_code == 409

    await client.assistants.delete(aid)
    with pytest.raises(httpx.HTTPStatusError) as gone:
        await client.assistants.get(aid)
    assert gone.value.response.status_code == 404


async def test_runs_use_the_assistants_config(api_server: ApiServer) -> None:
    client = api_server.client("asst-runs")
    assistant = await client.assistants.create("test", config={"configurable": {"team": "legal"}, "tags": ["a"]},
                                               name="Legal echo")
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], assistant["assistant_id"], input=human("hi"),
                                   config={"tags": ["b"]})
    await client.runs.join(thread["thread_id"], run["run_id"])
    stored = await client.runs.get(thread["thread_id"], run["run_id"])
    assert stored["assistant_id"] == assistant["assistant_id"] and stored["status"] == "success"
    assert stored["kwargs"]["config"]["configurable"] == {"team": "legal"}
    assert stored["kwargs"]["config"]["tags"] == ["a", "b"]
    assert (await client.threads.get(thread["thread_id"]))["metadata"]["assistant_id"] == assistant["assistant_id"]
    # deleting with delete_threads removes the threads the assistant ran on
    await client.assistants.delete(assistant["assistant_id"], delete_threads=True)
    with pytest.raises(httpx.HTTPStatusError) as gone:
        await client.threads.get(thread["thread_id"])
    assert gone.value.response.status_code == 404


async def test_another_users_assistant_is_not_there(api_server: ApiServer) -> None:
    mine = await api_server.client("asst-a").assistants.create("test", name="Mine")
    other = api_server.client("asst-b")
    for call in (other.assistants.get(mine["assistant_id"]), other.assistants.update(mine["assistant_id"], name="x"),
                 other.assistants.delete(mine["assistant_id"]), other.assistants.get_versions(mine["assistant_id"])):
        with pytest.raises(httpx.HTTPStatusError) as missing:
            await call
        assert missing.value.response.status_code == 404
    assert mine["assistant_id"] not in {a["assistant_id"] for a in await other.assistants.search(limit=100)}
    thread = await other.threads.create()
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await other.runs.create(thread["thread_id"], mine["assistant_id"], input=human("hi"))
    assert refused.value.response.status_code == 404
    assert (await api_server.client("asst-a").assistants.get(mine["assistant_id"]))["name"] == "Mine"


async def test_defaults_stay_and_bad_input_changes_nothing(api_server: ApiServer) -> None:
    client = api_server.client("asst-bad")
    default = await client.assistants.get("agent")
    for call in (client.assistants.update("agent", name="mine now"), client.assistants.delete("agent"),
                 client.assistants.set_latest("agent", 1)):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await call
        assert refused.value.response.status_code == 409
    assert await client.assistants.get("agent") == default
    before = await client.assistants.count()
    async with api_server.http("asst-bad") as http:
        for body, field in (({"graph_id": "nope"}, "graph_id"), ({"graph_id": "agent", "assistant_id": "x"},
                                                                  "assistant_id"),
                            ({"graph_id": "agent", "config": {"configurable": {"a": 1}}, "context": {"b": 2}},
                             "context"),
                            ({"graph_id": "agent", "config": {"recursion_limit": 0}}, "config.recursion_limit")):
            response = await http.post("/assistants", json=body)
            assert response.status_code in (404, 422) and response.json()["field"] == field, response.text
        mine = await client.assistants.create("test", name="ok")
        response = await http.post(f"/assistants/{mine['assistant_id']}/latest", json={"version": 7})
        assert response.status_code == 404 and response.json()["field"] == "version"
        response = await http.patch(f"/assistants/{mine['assistant_id']}", json={"graph_id": "nope"})
        assert response.status_code == 404
    assert (await client.assistants.get(mine["assistant_id"]))["version"] == 1
    assert await client.assistants.count() == before + 1


def test_an_assistants_voice_reaches_the_agents_prompt() -> None:
    from agent.prompts import assistant_settings, system_prompt
    from db.models import UserPreferences

    prefs = UserPreferences(tone="friendly", verbosity="normal", confirm_reminders=True,
                            default_signing_order="parallel")
    chosen = assistant_settings({"tone": "formal", "verbosity": "loud", "instructions": "Always CC legal@x.com.",
                                 "user_id": "ignored"})
    assert chosen == {"tone": "formal", "instructions": "Always CC legal@x.com."}
    prompt = system_prompt(prefs, assistant=chosen)
    assert prompt.startswith("Preferences: tone=formal; verbosity=normal;")
    assert "Be courteous and formal." in prompt and "Always CC legal@x.com." in prompt
    assert "tone=friendly" in system_prompt(prefs)
