"""Running a suite: every scenario (times `--repeat`) on a fresh world, a few at a time, with a progress bar;
infrastructure failures retried on a new world, the agent's own failures never; each finished attempt appended
to `DIR/cases.jsonl` and Postgres at once, so `--resume` continues where a stopped run left off. At the end,
`DIR/results.json`, `report.md` and `report.html`."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.session import Database, DatabaseUrls
from docusign_agent.settings import Settings
from evals import dataset, reports
from evals.case import CaseEnvironment, CaseResult, run_case
from evals.conversation import InfrastructureError
from evals.schema import Scenario
from evals.storage import ResultStore
from evals.summary import summarize
from evals.world import Harness, WorldError

INFRASTRUCTURE = (InfrastructureError, WorldError, httpx.TransportError)


class ResumeError(Exception):
    """`--resume` was asked for a directory holding another run (other suite, model, dataset or repeat)."""


@dataclass(frozen=True)
class RunOptions:
    suite: str = "smoke"
    dataset: str = dataset.DEFAULT_VERSION
    model: str = "offline"
    concurrency: int = 4
    repeat: int = 1
    out: Path = Path("evals-out")
    resume: bool = False
    turn_timeout: float = 180.0
    retries: int = 2
    scenario_ids: tuple[str, ...] = ()  # only these (tests, reruns); empty: the whole suite


def _selected(options: RunOptions) -> list[Scenario]:
    chosen = dataset.suite(dataset.load(options.dataset), options.suite)
    if options.scenario_ids:
        known = {s.id for s in chosen}
        unknown = [i for i in options.scenario_ids if i not in known]
        if unknown:
            raise dataset.DatasetError(f"no scenario {', '.join(unknown)} in the {options.suite} suite")
        chosen = [s for s in chosen if s.id in options.scenario_ids]
    return chosen


def _identity(options: RunOptions) -> dict[str, Any]:
    return {"suite": options.suite, "dataset": options.dataset, "model": options.model, "repeat": options.repeat,
            "scenario_ids": list(options.scenario_ids)}


def _previous(options: RunOptions) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    """The run to continue (its id and finished attempts) with --resume, else a new one in an emptied DIR."""
    run_file, cases_file = options.out / "run.json", options.out / "cases.jsonl"
    if options.resume and run_file.exists():
        meta = json.loads(run_file.read_text())
        if {k: meta.get(k) for k in _identity(options)} != _identity(options):
            raise ResumeError(f"--resume: {options.out} holds a run of {meta.get('suite')} on {meta.get('model')} "
                              f"(dataset {meta.get('dataset')}, repeat {meta.get('repeat')}); give the same flags "
                              "or another --out")
        lines = cases_file.read_text().splitlines() if cases_file.exists() else []
        return uuid.UUID(meta["eval_run_id"]), [json.loads(line) for line in lines if line.strip()]
    options.out.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4()
    run_file.write_text(json.dumps({**_identity(options), "eval_run_id": str(run_id)}, indent=2))
    cases_file.write_text("")
    return run_id, []


def _failure(scenario: Scenario, attempt: int, check: str, error: BaseException, retries: int) -> dict[str, Any]:
    detail = (f"gave up after {retries + 1} tries: " if retries else "") + f"{type(error).__name__}: {error}"
    return CaseResult(scenario.id, attempt, scenario.category, list(scenario.tools), False, True,
                      [{"name": check, "passed": False, "detail": detail[:500]}], 0.0, 0, 0, 0, [], [],
                      infrastructure_retries=retries).as_json()


async def run_suite(options: RunOptions, settings: Settings, url: str, urls: DatabaseUrls, *,
                    emulator_url: str | None = None, judge: Any = None, console: Console | None = None) -> dict[str, Any]:
    console = console or Console(stderr=True)
    scenarios = _selected(options)
    run_id, finished = _previous(options)
    done = {(c["scenario_id"], c["attempt"]) for c in finished}
    todo = [(s, a) for s in scenarios for a in range(1, options.repeat + 1) if (s.id, a) not in done]
    database = Database(urls, pool_size=2)
    store = ResultStore(database, run_id, suite=options.suite, dataset=options.dataset, model=options.model)
    lock, cases = asyncio.Lock(), list(finished)
    gate = asyncio.Semaphore(options.concurrency)
    async with httpx.AsyncClient(timeout=60) as http:
        env = CaseEnvironment(settings, url, http, Harness(http, emulator_url or f"{url.rstrip('/')}/_emulator"),
                              turn_timeout=options.turn_timeout, judge=judge)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("[green]{task.fields[passed]} passed [red]{task.fields[failed]} failed"),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"{options.suite} on {options.model}", total=len(scenarios) * options.repeat,
                                     completed=len(done), passed=sum(c["passed"] for c in finished),
                                     failed=sum(not c["passed"] for c in finished))

            async def one(scenario: Scenario, attempt: int) -> None:
                async with gate:
                    error: BaseException | None = None
                    for tried in range(options.retries + 1):
                        try:
                            result = (await run_case(env, scenario, attempt)).as_json()
                            result["infrastructure_retries"] = tried
                            break
                        except INFRASTRUCTURE as exc:
                            error = exc
                        except Exception as exc:  # the harness or the scenario's own setup failed: not retried
                            result = _failure(scenario, attempt, "harness", exc, 0)
                            break
                    else:
                        assert error is not None
                        result = _failure(scenario, attempt, "infrastructure", error, options.retries)
                async with lock:
                    cases.append(result)
                    with (options.out / "cases.jsonl").open("a") as f:
                        f.write(json.dumps(result, ensure_ascii=False) + "\n")
                    await store.add(result)
                    fields = progress.tasks[0].fields
                    progress.update(task, advance=1, passed=fields["passed"] + result["passed"],
                                    failed=fields["failed"] + (not result["passed"]))

            try:
                await asyncio.gather(*(one(s, a) for s, a in todo))
            finally:
                await database.dispose()
    results = summarize(cases, suite=options.suite, model=options.model, dataset=options.dataset,
                        repeat=options.repeat, scenario_ids=[s.id for s in scenarios])
    results["eval_run_id"] = str(run_id)
    write_reports(results, options.out)
    return results


def write_reports(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(reports.markdown(results))
    (out / "report.html").write_text(reports.html_report(results))
