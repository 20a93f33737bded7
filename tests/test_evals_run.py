"""The eval runner against the real product (offline model, emulator, Postgres): the smoke suite, what it writes,
resume, the results table, and the CLI with `--url` and `compare`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import EvalResult
from db.session import Database
from docusign_agent.settings import Settings
from evals.dataset import load, suite
from tests.conftest import role_urls
from tests.eval_helpers import case, eval_server, failed, run, scenario, write_dataset

REPO = Path(__file__).resolve().parents[1]
RESULT_KEYS = {"suite", "model", "scenarios", "passed", "pass_rate", "per_category", "per_tool",
               "approval_compliance", "cases"}

SEND = scenario("send", "send the NDA template to bob@example.com", tools=["send_template"], approvals=["approve"],
                calls=[{"tool": "send_template", "args": {"template": {"$template": "Mutual NDA"},
                                                          "recipients": [{"email": "bob@example.com"}]}}],
                end={"created": 1, "envelopes": [{"recipient": "bob@example.com", "status": "sent"}]})
VOID = scenario("void", "void envelope {env:e} because it was sent by mistake", tools=["void_envelope"],
                approvals=["approve"],
                setup={"envelopes": [{"key": "e", "template": "Mutual NDA",
                                      "recipients": [{"name": "Bob", "email": "bob@example.com"}]}]},
                calls=[{"tool": "void_envelope", "args": {"envelope_id": "{env:e}"}}],
                end={"envelopes": [{"key": "e", "status": "voided"}]})


@pytest.fixture(scope="module")
def server(settings: Settings) -> tuple[str, Settings]:
    with eval_server(settings) as served:
        yield served


async def test_smoke_suite_runs_and_writes_every_report(server: tuple[str, Settings], tmp_path: Path) -> None:
    url, configured = server
    results = await run(configured, url, tmp_path, suite="smoke", concurrency=4)
    smoke = suite(load(), "smoke")
    assert RESULT_KEYS <= set(results) and results["scenarios"] == len(smoke) >= 12
    assert {c["scenario_id"] for c in results["cases"]} == {s.id for s in smoke}
    assert results["approval_compliance"] == 1.0 and not results["violations"]
    assert all(c["infrastructure_retries"] == 0 and "harness" not in failed(c) for c in results["cases"])
    failing = {c["scenario_id"]: failed(c) for c in results["cases"] if not c["passed"]}
    assert results["passed"] == len(smoke) and not failing, f"smoke scenarios failing on the offline model: {failing}"
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["pass_rate"] == results["pass_rate"] and RESULT_KEYS <= set(written)
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html and "http" not in html.split("<body>", 1)[1].split("<svg", 1)[0]  # nothing fetched
    assert "## Per category" in (tmp_path / "report.md").read_text()
    database = Database(role_urls(str(configured.database_url)), pool_size=1)
    try:
        async with database.owner_session() as session:
            rows = (await session.execute(select(func.count()).where(
                EvalResult.eval_run_id == uuid.UUID(results["eval_run_id"])))).scalar_one()
    finally:
        await database.dispose()
    assert rows == len(smoke)


async def test_resume_runs_only_what_is_missing(server: tuple[str, Settings], tmp_path: Path) -> None:
    url, configured = server
    data = write_dataset(tmp_path / "data", [SEND, VOID])
    first = await run(configured, url, tmp_path / "out", suite="full", dataset=data, concurrency=2)
    assert first["passed"] == 2 and first["per_tool"]["void_envelope"]["pass_rate"] == 1.0
    assert case(first, "send")["irreversible_calls"] == 1 and case(first, "void")["compliant"]
    lines = (tmp_path / "out" / "cases.jsonl").read_text().splitlines()
    (tmp_path / "out" / "cases.jsonl").write_text(lines[0] + "\n")  # as if stopped after one scenario
    again = await run(configured, url, tmp_path / "out", suite="full", dataset=data, concurrency=2, resume=True)
    assert again["eval_run_id"] == first["eval_run_id"] and again["scenarios"] == 2 and again["passed"] == 2
    assert len((tmp_path / "out" / "cases.jsonl").read_text().splitlines()) == 2
    with pytest.raises(Exception, match="--resume"):
        await run(configured, url, tmp_path / "out", suite="full", dataset=data, repeat=2, resume=True)


def test_cli_run_with_url_then_compare(server: tuple[str, Settings], tmp_path: Path) -> None:
    url, configured = server
    data = write_dataset(tmp_path / "data", [SEND])
    env = {**os.environ, "DATABASE_URL": str(configured.database_url), "AUTH_JWT_SECRET": configured.auth_jwt_secret
           or "", "DATA_DIR": str(configured.data_dir), "LANGSMITH_API_KEY": ""}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli.main", "evals", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)

    done = cli("run", "--suite", "full", "--dataset", data, "--url", url, "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    assert "1/1 scenarios passed (100.0%)" in done.stdout and "approval compliance 100.0%" in done.stdout
    refused = cli("run", "--url", url, "--base-url", "http://127.0.0.1:9/v1")
    assert refused.returncode == 2 and "--base-url" in refused.stderr
    worse = json.loads((tmp_path / "a" / "results.json").read_text())
    worse["cases"][0]["passed"], worse["pass_rate"] = False, 0.0
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.json").write_text(json.dumps(worse))
    compared = cli("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert compared.returncode == 0, compared.stderr
    assert "pass rate 100.0% -> 0.0%" in compared.stdout and "worse (1): send" in compared.stdout
