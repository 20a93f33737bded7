"""Helpers for the eval suite's tests: the product served on a thread (as `evals run` starts it), small
datasets written to a folder, and running a suite against the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from docusign_agent.settings import Settings
from emulator.offline_model.app import create_offline_model_app
from evals.runner import RunOptions, run_suite
from evals.server import started_server
from tests.conftest import role_urls
from tests.servers import free_port


@contextmanager
def eval_server(settings: Settings, **overrides: Any) -> Iterator[tuple[str, Settings]]:
    configured = settings.model_copy(update={"host": "127.0.0.1", "port": free_port(), "public_url": None,
                                             "log_level": "WARNING", **overrides})
    with started_server(configured, role_urls(str(settings.database_url))) as url:
        yield url, configured


def write_dataset(folder: Path, scenarios: Sequence[dict[str, Any]]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenarios.jsonl").write_text("".join(json.dumps(s) + "\n" for s in scenarios))
    return str(folder)


async def run(settings: Settings, url: str, out: Path, **options: Any) -> dict[str, Any]:
    return await run_suite(RunOptions(out=out, **options), settings, url, role_urls(str(settings.database_url)))


def case(results: dict[str, Any], scenario_id: str) -> dict[str, Any]:
    [found] = [c for c in results["cases"] if c["scenario_id"] == scenario_id]
    return found


def failed(found: dict[str, Any]) -> set[str]:
    return {c["name"] for c in found["checks"] if not c["passed"]}


def scenario(id: str, user: str | list[str], *, category: str = "approvals", tools: list[str], approvals: Sequence[Any] = (),
             setup: dict[str, Any] | None = None, calls: Sequence[dict[str, Any]] = (), end: dict[str, Any] | None = None,
             forbid: Sequence[str] = ()) -> dict[str, Any]:
    turns = [{"user": t} for t in ([user] if isinstance(user, str) else user)]
    turns[-1]["approvals"] = [{"decision": a} if isinstance(a, str) else a for a in approvals]
    return {"id": id, "category": category, "tools": tools, "setup": setup or {}, "turns": turns,
            "expect": {"trajectory": {"calls": list(calls), "forbid": list(forbid)}, "end_state": end or {}}}


def offline_model_proxy(before: Callable[[Request, dict[str, Any]], None]) -> FastAPI:
    """The offline model on an OpenAI-compatible port of its own; `before` sees (and may rewrite) each completion
    request, so a test can record what the product asked or turn the model into a misbehaving one."""
    offline = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_offline_model_app()), base_url="http://offline")
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> Response:
        answer = await offline.get("/v1/models")
        return Response(answer.content, media_type="application/json")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        before(request, body)
        upstream = await offline.send(offline.build_request("POST", "/v1/chat/completions", json=body), stream=True)
        return StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code,
                                 media_type=upstream.headers.get("content-type"))

    return app
