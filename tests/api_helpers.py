"""Helpers for the API tests: a small real graph, real servers (thread or subprocess), tokens and SDK clients.

The `test` graph exercises the runtime without a model: its node streams custom events, answers with a
message, stops for approval with the same `interrupt()` payload the product uses, can run slowly (to cancel,
disconnect or kill mid-run) and can fail. Everything else (Postgres, the bus, uvicorn, the SDK) is real.

Run as a module, it is a server process for the scale-out tests:
`python -m tests.api_helpers --port P` with DATABASE_URL, REDIS_URL and AUTH_JWT_SECRET in the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from typing_extensions import TypedDict

import httpx
import pytest
import uvicorn
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_store, get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from langgraph_sdk import get_client

from api.auth import issue_token
from runtime.runs.graphs import GraphRegistry
from runtime.runs.process import RuntimeOptions
from runtime.runs.worker import WorkerOptions
from db.session import DatabaseUrls
from db.urls import APP_ROLE, RUNS_ROLE, WEBHOOK_ROLE, with_user
from docusign_agent.settings import Settings
from tests.servers import ServerThread, free_port, wait_until
from tests.servers import await_until as await_until  # re-exported for the API tests

REPO = Path(__file__).resolve().parents[1]
BROWSER_ORIGIN = "http://localhost:3000"  # where agent-chat-ui runs in development


# --- the test graph ----------------------------------------------------------------------------------------


class EchoState(TypedDict):
    messages: Annotated[list[BaseMessage], add_messages]


def _text(message: Any) -> str:
    content = message.content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


async def respond(state: EchoState) -> dict[str, Any]:
    """`slow N`: N ticks of 0.1 s; `approve ...`: asks for approval; `fail`: raises; `note KEY TEXT` / `recall
    KEY`: writes / reads the run's Store under ("notes",); anything else: echoes."""
    write = get_stream_writer()
    text = _text(state["messages"][-1]).strip()
    write({"step": "started", "text": text})
    if text.startswith(("note ", "recall ")):
        store, words = get_store(), text.split(maxsplit=2)
        if words[0] == "note":
            await store.aput(("notes",), words[1], {"text": words[2] if len(words) > 2 else ""})
            return {"messages": [AIMessage(content=f"noted {words[1]}")]}
        item = await store.aget(("notes",), words[1])
        return {"messages": [AIMessage(content=f"recalled: {item.value['text'] if item else None}")]}
    if text.startswith("slow"):
        ticks = int(text.split()[1]) if len(text.split()) > 1 else 20
        for tick in range(ticks):
            write({"tick": tick})
            await asyncio.sleep(0.1)
        return {"messages": [AIMessage(content=f"slept {ticks} ticks")]}
    if text.startswith("approve"):
        decision = interrupt({
            "action_requests": [{"name": "void_envelope", "args": {"envelope_id": "env-1", "reason": text},
                                 "description": "Void envelope env-1"}],
            "review_configs": [{"action_name": "void_envelope", "allowed_decisions": ["approve", "edit", "reject"]}],
        })
        kind = (decision.get("decisions") or [{}])[0].get("type") if isinstance(decision, dict) else decision
        return {"messages": [AIMessage(content=f"decision: {kind}")]}
    if text == "fail":
        raise ValueError("the test graph was asked to fail")
    return {"messages": [AIMessage(content=f"echo: {text}")]}


def build_test_graph(checkpointer: BaseCheckpointSaver | None = None) -> Any:
    graph = StateGraph(EchoState)
    graph.add_node("respond", respond)
    graph.add_edge(START, "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer, name="test")


def build_nested_graph(checkpointer: BaseCheckpointSaver | None = None) -> Any:
    """The test graph as a subgraph (node `inner`), for what `stream_subgraphs` and subgraph schemas show."""
    graph = StateGraph(EchoState)
    graph.add_node("inner", build_test_graph())
    graph.add_edge(START, "inner")
    graph.add_edge("inner", END)
    return graph.compile(checkpointer=checkpointer, name="nested")


def graph_registry() -> GraphRegistry:
    return GraphRegistry({"agent": "agent.graph:build_graph", "test": build_test_graph, "nested": build_nested_graph})


def runtime_options(*, heartbeat: float = 0.5, stale: int = 30) -> RuntimeOptions:
    """Quick heartbeats; a run is swept as lost only after `stale` seconds without one. On a loaded machine an
    event loop can stall for seconds, so only the test that kills a process shortens it (and waits for it)."""
    return RuntimeOptions(graphs=graph_registry(), sse_heartbeat_seconds=0.5,
                          worker=WorkerOptions(heartbeat_seconds=heartbeat, stale_after_seconds=stale))


def role_urls(owner_url: str) -> DatabaseUrls:
    return DatabaseUrls(owner=owner_url, app=with_user(owner_url, APP_ROLE, None),
                        webhook=with_user(owner_url, WEBHOOK_ROLE, None), runs=with_user(owner_url, RUNS_ROLE, None))


def human(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


# --- servers -----------------------------------------------------------------------------------------------


@dataclass
class ApiServer:
    url: str
    settings: Settings
    users: dict[str, uuid.UUID] = field(default_factory=dict)

    def token(self, name: str = "alice") -> str:
        user = self.users.setdefault(name, uuid.uuid4())
        return issue_token(self.settings, user, f"{name}-{user.hex[:6]}@example.com")

    def headers(self, name: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def client(self, name: str = "alice") -> Any:
        return get_client(url=self.url, headers=self.headers(name), timeout=60)

    def http(self, name: str | None = "alice", headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        auth = self.headers(name) if name else {}
        return httpx.AsyncClient(base_url=self.url, headers={**auth, **(headers or {})}, timeout=60)


@pytest.fixture(scope="module")
def api_server(settings: Settings) -> Iterator[ApiServer]:
    """The whole app (LangGraph API, /v1, webhooks) on a free port, serving the `test` graph beside `agent`."""
    from api.app import create_app

    settings = settings.model_copy(update={"cors_origins": [BROWSER_ORIGIN]})
    app = create_app(settings, role_urls(settings.database_url),  # type: ignore[arg-type]
                     runtime_options=runtime_options())
    with ServerThread(app) as server:
        yield ApiServer(url=server.url, settings=settings)


def parse_sse(raw: bytes) -> list[tuple[str, Any, str | None]]:
    """(event, data, id) triples of an SSE body, comments skipped."""
    import orjson

    events = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data, event_id = None, b"", None
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data += line[6:]
            elif line.startswith(b"id: "):
                event_id = line[4:].decode()
        if name:
            events.append((name, orjson.loads(data) if data else None, event_id))
    return events


# --- subprocess servers (scale-out) --------------------------------------------------------------------------


class ServerProcess:
    """`python -m tests.api_helpers` as a real separate process sharing Postgres and Redis."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        return self.spawn().wait_ready()

    def spawn(self) -> ServerProcess:
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server never blocks on a full pipe
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.api_helpers", "--port", str(self.port)],
                                     cwd=REPO, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        return self

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_ready(self) -> ServerProcess:
        assert self.proc is not None
        deadline = time.time() + 240  # importing the server stack takes a while on a loaded machine
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server process did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisProcess:
    """A throwaway redis-server on a free port, for machines where REDIS_URL is not set."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def __enter__(self) -> RedisProcess:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_until(lambda: _pings(redis.Redis(port=self.port)), timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def _serve(port: int) -> None:
    from api.app import create_app
    from docusign_agent.settings import load_settings

    settings = load_settings(port=port, _env_file=None)
    # The scale-out tests kill -9 one of these and wait for the other to sweep the lost run.
    app = create_app(settings, role_urls(settings.database_url),  # type: ignore[arg-type]
                     runtime_options=runtime_options(heartbeat=0.5, stale=15))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)

