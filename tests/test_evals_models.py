"""Scoring a model other than the server's own: `evals run` with `--base-url/--model/--api-key-env` starts the
product on that OpenAI-compatible endpoint, and `--judge-model` (with its own endpoint) grades each answer.

The endpoint under evaluation is the offline model served on its own port behind a recorder, so the test sees
which key and model name the product really used. No LLM can run here to judge, so the judge is an
OpenAI-compatible stand-in whose verdict the test sets; what is asserted is the runner's side: the judge is
asked once per attempt with the person's turns, the transcript and the scenario's reference, and its verdict
becomes the `judge` check (a "no" fails the scenario on that check alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from docusign_agent.settings import Settings
from evals.judge import Judge
from evals.runner import RunOptions, run_suite
from tests.conftest import role_urls
from tests.eval_helpers import case, eval_server, failed, offline_model_proxy, scenario, write_dataset
from tests.servers import ServerThread

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-eval-test-not-a-real-key"
TEMPLATES = scenario("templates", "what templates do I have?", category="reads", tools=["list_templates"],
                     calls=[{"tool": "list_templates", "args": {}}], end={"created": 0, "unchanged": True})


def recording_endpoint(seen: list[dict[str, Any]]) -> FastAPI:
    """The offline model on a port of its own, noting the key and model name of every completion asked for."""
    return offline_model_proxy(lambda request, body: seen.append(
        {"authorization": request.headers.get("authorization"), "model": body.get("model")}))


def judge_endpoint(verdict: bool, asked: list[dict[str, Any]]) -> FastAPI:
    """An OpenAI-compatible judge that answers every structured-output request with the verdict it was given."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        asked.append({"authorization": request.headers.get("authorization"), **body})
        content = json.dumps({"reasoning": "The assistant listed the templates." if verdict else
                              "The assistant did not say which templates exist.", "score": verdict})
        return JSONResponse({"id": f"judge-{len(asked)}", "object": "chat.completion", "created": int(time.time()),
                             "model": body.get("model"), "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    return app


@pytest.fixture()
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with ServerThread(recording_endpoint(seen)) as server:
        yield f"{server.url}/v1", seen


def _prompt(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in request["messages"])


def test_cli_scores_the_endpoint_the_flags_name_with_a_judge_and_repeats(
        settings: Settings, tmp_path: Path, endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, seen = endpoint
    asked: list[dict[str, Any]] = []
    data = write_dataset(tmp_path / "data", [TEMPLATES])
    env = {**os.environ, "DATABASE_URL": str(settings.database_url), "DATA_DIR": str(settings.data_dir),
           "LANGSMITH_API_KEY": "", "EVAL_MODEL_KEY": KEY, "EVAL_JUDGE_KEY": "judge-key"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli.main", "evals", "run", "--suite", "full", "--dataset", data,
                               *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)

    with ServerThread(judge_endpoint(True, asked)) as judge:
        done = cli("--base-url", base_url, "--model", "offline-planner", "--api-key-env", "EVAL_MODEL_KEY",
                   "--judge-model", "judge-1", "--judge-base-url", f"{judge.url}/v1",
                   "--judge-api-key-env", "EVAL_JUDGE_KEY", "--repeat", "2", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "1/1 scenarios passed (100.0%, pass^2), approval compliance 100.0%" in done.stdout
    # The product planned with the endpoint the flags named, under that model name and key.
    assert seen and {(s["authorization"], s["model"]) for s in seen} == {(f"Bearer {KEY}", "offline-planner")}
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (results["model"], results["repeat"], results["pass_at_1"]) == ("offline-planner", 2, 1.0)
    attempts = [c for c in results["cases"] if c["scenario_id"] == "templates"]
    assert sorted(c["attempt"] for c in attempts) == [1, 2]
    assert all(c["judge"]["score"] is True and "judge" not in failed(c) for c in attempts)
    # The judge was asked once per attempt, with its own key, about this conversation.
    assert len(asked) == 2 and {a["authorization"] for a in asked} == {"Bearer judge-key"}
    assert all("what templates do I have?" in _prompt(a) and "list_templates" in _prompt(a) for a in asked)
    for written in (tmp_path / "out").iterdir():  # the keys are never written down
        assert KEY not in written.read_text(errors="replace") and "judge-key" not in written.read_text(errors="replace")


def test_cli_refuses_judge_flags_without_a_judge_and_a_missing_key(settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": str(settings.database_url), "DATA_DIR": str(settings.data_dir)}
    env.pop("EVAL_UNSET_KEY", None)
    base = [sys.executable, "-m", "cli.main", "evals", "run", "--out", str(tmp_path / "out")]
    lonely = subprocess.run([*base, "--judge-base-url", "http://127.0.0.1:9/v1"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert lonely.returncode == 2 and "need --judge-model" in lonely.stderr
    unset = subprocess.run([*base, "--judge-model", "j", "--judge-base-url", "http://127.0.0.1:9/v1",
                            "--judge-api-key-env", "EVAL_UNSET_KEY"], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=300)
    assert unset.returncode == 2 and "EVAL_UNSET_KEY: that environment variable is not set" in unset.stderr
    assert not (tmp_path / "out").exists()  # nothing was run or written


async def test_a_judge_that_says_no_fails_the_scenario_on_that_check_alone(settings: Settings, tmp_path: Path) -> None:
    asked: list[dict[str, Any]] = []
    data = write_dataset(tmp_path / "data", [TEMPLATES])
    with ServerThread(judge_endpoint(False, asked)) as judge_server, eval_server(settings) as (url, configured):
        judge = Judge.from_flags("judge-1", f"{judge_server.url}/v1", None)
        results = await run_suite(RunOptions(out=tmp_path / "out", suite="full", dataset=data), configured, url,
                                  role_urls(str(configured.database_url)), judge=judge)
    templates = case(results, "templates")
    assert failed(templates) == {"judge"}, templates["checks"]
    assert "did not say which templates exist" in next(c["detail"] for c in templates["checks"] if c["name"] == "judge")
    assert results["passed"] == 0 and results["approval_compliance"] == 1.0 and len(asked) == 1
