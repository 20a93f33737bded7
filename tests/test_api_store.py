"""The Store through the SDK: items, search, namespaces, TTL; one user's items invisible to another; the
graph's `store`; bad input refused with nothing written."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api_helpers import ApiServer, api_server, await_until, human  # noqa: F401


async def test_items_search_and_namespaces(api_server: ApiServer) -> None:
    store = api_server.client("store-a").store
    ns = ["memories", uuid.uuid4().hex, "contacts"]
    await store.put_item(ns, "bob@x.com", {"name": "Bob Stone", "email": "bob@x.com", "sent": 3})
    await store.put_item(ns, "ann@x.com", {"name": "Ann Lee", "email": "ann@x.com", "sent": 1})
    await store.put_item(ns[:2] + ["defaults"], "default_cc", {"recipients": [{"email": "legal@x.com"}]})

    item = await store.get_item(ns, "bob@x.com")
    assert set(item) == {"namespace", "key", "value", "created_at", "updated_at"}
    assert item["namespace"] == ns and item["value"]["name"] == "Bob Stone"
    assert await store.get_item(ns, "nobody@x.com") is None

    everything = (await store.search_items(ns[:2]))["items"]
    assert {i["key"] for i in everything} == {"bob@x.com", "ann@x.com", "default_cc"}
    assert all(set(i) == {"namespace", "key", "value", "created_at", "updated_at", "score"} for i in everything)
    assert [i["key"] for i in (await store.search_items(ns, filter={"sent": {"$gt": 2}}))["items"]] == ["bob@x.com"]
    assert [i["key"] for i in (await store.search_items(ns, filter={"name": "Ann Lee"}))["items"]] == ["ann@x.com"]
    assert [i["key"] for i in (await store.search_items(ns, query="stone"))["items"]] == ["bob@x.com"]
    assert len((await store.search_items(ns[:2], limit=1, offset=1))["items"]) == 1

    listed = (await store.list_namespaces(prefix=ns[:2]))["namespaces"]
    assert listed == [ns[:2] + ["contacts"], ns[:2] + ["defaults"]]
    assert (await store.list_namespaces(prefix=ns[:2], max_depth=2))["namespaces"] == [ns[:2]]
    assert (await store.list_namespaces(suffix=["defaults"], prefix=["memories", "*"]))["namespaces"] == [
        ns[:2] + ["defaults"]]

    await store.put_item(ns, "bob@x.com", {"name": "Bob Stone", "email": "bob@x.com", "sent": 4})
    again = await store.get_item(ns, "bob@x.com")
    assert again["value"]["sent"] == 4 and again["created_at"] == item["created_at"]
    assert again["updated_at"] > item["updated_at"]
    await store.delete_item(ns, "bob@x.com")
    assert await store.get_item(ns, "bob@x.com") is None
    await store.delete_item(ns, "bob@x.com")  # deleting what is gone is not an error


async def test_one_users_items_are_invisible_to_another(api_server: ApiServer) -> None:
    alice, bob = api_server.client("iso-alice").store, api_server.client("iso-bob").store
    ns = ["memories", "contacts"]
    await alice.put_item(ns, "carol@x.com", {"name": "Carol", "email": "carol@x.com"})
    assert await bob.get_item(ns, "carol@x.com") is None
    assert (await bob.search_items(["memories"]))["items"] == []
    assert (await bob.list_namespaces())["namespaces"] == []
    await bob.delete_item(ns, "carol@x.com")  # aims at the same namespace and key: touches only Bob's
    await bob.put_item(ns, "carol@x.com", {"name": "Someone else"})
    assert (await alice.get_item(ns, "carol@x.com"))["value"] == {"name": "Carol", "email": "carol@x.com"}
    assert (await bob.get_item(ns, "carol@x.com"))["value"] == {"name": "Someone else"}


async def test_ttl_expires_items(api_server: ApiServer) -> None:
    store = api_server.client("ttl").store
    await store.put_item(["scratch"], "short", {"v": 1}, ttl=0.02)  # 1.2 seconds
    await store.put_item(["scratch"], "kept", {"v": 2})
    assert (await store.get_item(["scratch"], "short", refresh_ttl=False))["value"] == {"v": 1}

    async def expired() -> bool:
        return await store.get_item(["scratch"], "short", refresh_ttl=False) is None

    await await_until(expired, timeout=60)
    assert [i["key"] for i in (await store.search_items(["scratch"]))["items"]] == ["kept"]


@pytest.mark.parametrize("method, path, body, field", [
    ("PUT", "/store/items", {"namespace": ["a.b"], "key": "k", "value": {}}, "namespace"),
    ("PUT", "/store/items", {"namespace": [], "key": "k", "value": {}}, "namespace"),
    ("PUT", "/store/items", {"namespace": ["langgraph"], "key": "k", "value": {}}, "namespace"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": [1]}, "value"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "", "value": {}}, "key"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {}, "ttl": -1}, "ttl"),
    ("POST", "/store/items/search", {"namespace_prefix": ["a"], "filter": {"x": {"$near": 1}}}, "filter"),
    ("POST", "/store/items/search", {"filter": {"x'; DROP TABLE store_items; --": 1}}, "filter"),
    ("POST", "/store/items/search", {"limit": 0}, "limit"),
    ("POST", "/store/namespaces", {"prefix": [""]}, "prefix"),
    ("DELETE", "/store/items", {"namespace": ["a"]}, "key"),
])
async def test_bad_input_is_refused_and_changes_nothing(api_server: ApiServer, method: str, path: str,
                                                        body: dict, field: str) -> None:
    async with api_server.http("bad-store") as http:
        response = await http.request(method, path, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["field"].startswith(field), response.json()
        assert (await http.post("/store/items/search", json={})).json() == {"items": []}
        missing = await http.get("/store/items", params={"namespace": "a.", "key": "k"})
        assert missing.status_code == 422 and missing.json()["field"] == "namespace"


async def test_store_needs_auth(api_server: ApiServer) -> None:
    async with api_server.http(None) as http:
        assert (await http.post("/store/items/search", json={})).status_code == 401


async def test_the_graph_gets_its_users_store(api_server: ApiServer) -> None:
    client = api_server.client("graph-store")
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "test", input=human("note nda send it friday"))
    item = await client.store.get_item(["notes"], "nda")
    assert item["value"] == {"text": "send it friday"}
    other = await client.threads.create()
    result = await client.runs.wait(other["thread_id"], "test", input=human("recall nda"))
    assert result["messages"][-1]["content"] == "recalled: send it friday"  # across threads

    stranger = api_server.client("graph-stranger")
    thread = await stranger.threads.create()
    result = await stranger.runs.wait(thread["thread_id"], "test", input=human("recall nda"))
    assert result["messages"][-1]["content"] == "recalled: None"
    with pytest.raises(httpx.HTTPStatusError):
        await stranger.store.put_item(["notes"], "x", "not an object")  # type: ignore[arg-type]
