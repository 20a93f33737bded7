"""Conformance with `langgraph dev` serving the same graphs: every langgraph-sdk method, and the HTTP calls the
JS SDK's useStream makes, answered with the same status and shape as the peer answered them (recorded in
tests/specs/conformance/ by scripts/record_conformance.py), except the differences listed here, each on purpose
and each described in docs/API.md ("Differences from langgraph-api"). A difference that is not listed fails, and
so does a listed one that is no longer there."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

from tests.api_helpers import ApiServer, api_server, parse_sse  # noqa: F401
from tests.conformance_drive import Shape, drive, shape_of

SPECS = Path(__file__).parent / "specs" / "conformance"
NOT_DRIVEN = {"threads.stream"}  # the SDK's v2 event protocol (`AsyncThreadStream`), off in langgraph dev

RUN = {"extra": {"error"}}  # why a run failed, on the run itself
THREAD = {"extra": {"interrupts", "error"}}  # the thread's pending interrupts and last error, on the thread
END = {"events_extra": {"end"}}  # every stream of ours closes with `end` (status of the run)
STREAMS = ("values", "updates", "messages-tuple", "custom", "events", "debug", "tasks", "checkpoints", "several",
           "stateless", "subgraphs")
# label -> what differs: keys ours adds ("extra") or leaves out ("missing"), stream events ours adds
# ("events_extra"), or the statuses (peer, ours). Reasons: docs/API.md, "Differences from langgraph-api".
DIFFERENCES: dict[str, dict[str, Any]] = {
    **{label: RUN for label in ("runs.create", "runs.create slow", "runs.create_batch", "runs.get", "runs.list")},
    **{f"runs.stream {mode}": END for mode in STREAMS},
    # a finished run's stream is replayed from its start (events are kept an hour); the peer sends nothing
    "runs.join_stream": {"events_extra": {"metadata", "values", "end"}},
    **{label: THREAD for label in ("threads.create", "threads.get", "threads.search", "threads.update")},
    "threads.copy": {"extra": {"interrupts", "error", "values"}},  # the copy's values, as on every thread
    "js POST /threads": THREAD,
    "js GET /threads/{id}/runs/{id}": RUN,
    "js POST /threads/{id}/runs/stream": END,
    "js GET /threads/{id}/runs/{id}/stream?cancel_on_disconnect=0": END,
}


def _differences(peer: Shape, ours: Shape) -> dict[str, Any]:
    if peer.get("status") != ours.get("status"):
        return {"status": (peer.get("status"), ours.get("status"))}
    found: dict[str, Any] = {}
    if peer.get("type") == "stream" or ours.get("type") == "stream":
        extra, missing = set(ours.get("events", [])) - set(peer.get("events", [])), \
            set(peer.get("events", [])) - set(ours.get("events", []))
        if extra:
            found["events_extra"] = extra
        if missing:
            found["events_missing"] = missing
        return found
    if peer.get("type") != ours.get("type"):
        return {"type": (peer.get("type"), ours.get("type"))}
    peer_keys = peer.get("keys") or (peer.get("item") if isinstance(peer.get("item"), dict) else None)
    our_keys = ours.get("keys") or (ours.get("item") if isinstance(ours.get("item"), dict) else None)
    if peer_keys is None or our_keys is None:
        if peer.get("item") != ours.get("item") and "null" not in (peer.get("item"), ours.get("item")):
            found["item"] = (peer.get("item"), ours.get("item"))
        return found
    if extra := set(our_keys) - set(peer_keys):
        found["extra"] = extra
    if missing := set(peer_keys) - set(our_keys):
        found["missing"] = missing
    types = {k: (peer_keys[k], our_keys[k]) for k in set(peer_keys) & set(our_keys)
             if peer_keys[k] != our_keys[k] and "null" not in (peer_keys[k], our_keys[k])}
    if types:
        found["types"] = types
    return found


def _compare(peer: dict[str, Shape], ours: dict[str, Shape]) -> dict[str, dict[str, Any]]:
    assert set(peer) == set(ours), set(peer) ^ set(ours)
    return {label: diff for label in sorted(peer) if (diff := _differences(peer[label], ours[label]))}


async def test_every_sdk_method_answers_like_langgraph_dev(api_server: ApiServer) -> None:
    rec = await drive(api_server.client("conformance"))
    client = get_client(url=api_server.url)
    methods = {f"{part}.{name}" for part in ("assistants", "threads", "runs", "crons", "store")
               for name, _ in inspect.getmembers(getattr(client, part), callable) if not name.startswith("_")}
    assert methods - NOT_DRIVEN <= rec.called, sorted(methods - NOT_DRIVEN - rec.called)
    peer = json.loads((SPECS / "langgraph_dev.json").read_text())
    assert _compare(peer, rec.answers) == {k: v for k, v in DIFFERENCES.items() if not k.startswith("js ")}


# --- useStream -------------------------------------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _label(call: dict[str, Any]) -> str:
    return f"js {call['method']} {UUID.sub('{id}', call['path'])}{'?' + call['query'][1:] if call['query'] else ''}"


async def test_usestream_calls_answer_like_langgraph_dev(api_server: ApiServer) -> None:
    """The JS SDK's calls as useStream makes them (recorded from the JS SDK itself, replayed here with the ids
    of this server): the same statuses, object shapes and stream events."""
    calls = json.loads((SPECS / "usestream.json").read_text())
    recorded_ids: list[str] = []  # thread and run ids in the order the recording first used them
    ours: list[str] = []  # ours, in the order they were made
    peer_answers: dict[str, Shape] = {}
    our_answers: dict[str, Shape] = {}
    background: list[asyncio.Task[None]] = []

    def ids_in(path: str) -> str:
        for found in UUID.findall(path):
            if found not in recorded_ids:
                recorded_ids.append(found)
        return UUID.sub(lambda m: ours[recorded_ids.index(m.group(0))], path)

    async with api_server.http("conformance-js") as http:
        for index, call in enumerate(calls):
            label = f"{_label(call)} #{index}"
            peer_answers[label] = {"status": call["status"], **(call["answer"] or {"type": "null"})}
            path = ids_in(call["path"])
            headers = {k: v for k, v in call["headers"].items() if v}
            request = http.build_request(call["method"], path + call["query"], json=call["body"], headers=headers)
            response = await http.send(request, stream=True)
            if "event-stream" in response.headers.get("content-type", ""):
                leaves_early = index + 1 < len(calls) and calls[index + 1]["path"].endswith("/cancel")
                background.append(asyncio.create_task(_read_stream(response, label, our_answers, ours,
                                                                   leaves_early)))
                if leaves_early:
                    await _until(lambda label=label: our_answers.get(label + " started"))
                else:
                    await background[-1]
                continue
            body = await response.aread()
            await response.aclose()
            value = json.loads(body) if body.strip() else None
            if call["method"] == "POST" and call["path"] == "/threads":
                ours.append(value["thread_id"])
            our_answers[label] = {"status": response.status_code, **(shape_of(value) if value is not None
                                                                     else {"type": "null"})}
        await asyncio.gather(*background)
    for key in [k for k in our_answers if k.endswith(" started")]:
        our_answers.pop(key)
    expected = {k.split(" #")[0]: v for k, v in DIFFERENCES.items() if k.startswith("js ")}
    assert {k.split(" #")[0]: v for k, v in _compare(peer_answers, our_answers).items()} == expected


async def _read_stream(response: httpx.Response, label: str, answers: dict[str, Shape], ours: list[str],
                       leaves_early: bool) -> None:
    raw = b""
    async for chunk in response.aiter_bytes():
        raw += chunk
        events = parse_sse(raw.rsplit(b"\n\n", 1)[0] + b"\n\n") if b"\n\n" in raw else []
        if events and events[0][0] == "metadata" and events[0][1]["run_id"] not in ours:
            ours.append(events[0][1]["run_id"])
        if leaves_early and any(name == "custom" for name, _, _ in events):
            answers[label + " started"] = {"status": 200}
    await response.aclose()
    names = sorted({n.split("|")[0] + ("|…" if "|" in n else "") for n, _, _ in parse_sse(raw)})
    answers[label] = {"status": response.status_code, "type": "stream", "events": names}


async def _until(predicate: Any, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "the stream never started"
        await asyncio.sleep(0.02)
