"""`docusign-agent evals run` and `evals compare`: the eval suite from the command line (evals/).

`run` starts the product itself (the offline model, or any OpenAI-compatible endpoint the flags name) unless
`--url` names a running server, plays every scenario of the suite against it and prints the pass rate. Like
`serve`, it imports the server stack only when it runs.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import err, fail, out, prepared, settings_or_exit

evals_app = typer.Typer(no_args_is_help=True, help="Measure the agent on realistic conversations (evals/).")


@evals_app.command("run")
def run(
    suite: Annotated[str, typer.Option(help="smoke (about 15 scenarios) or full")] = "smoke",
    model: Annotated[str | None, typer.Option(help="Model name the started server asks for")] = None,
    base_url: Annotated[str | None, typer.Option(help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding that endpoint's key")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Scenarios at once")] = 4,
    out_dir: Annotated[Path, typer.Option("--out", help="Where results.json and the reports go")] = Path("evals-out"),
    resume: Annotated[bool, typer.Option(help="Continue the run in --out, skipping finished scenarios")] = False,
    url: Annotated[str | None, typer.Option(help="A running server to evaluate (same DATA_DIR or AUTH_JWT_SECRET)")] = None,
    repeat: Annotated[int, typer.Option(min=1, max=20, help="Attempts per scenario; a scenario passes when all do (pass^k)")] = 1,
    judge_model: Annotated[str | None, typer.Option(help="Also grade answers with this model (openevals LLM judge)")] = None,
    judge_base_url: Annotated[str | None, typer.Option(help="The judge's OpenAI-compatible endpoint (default: --base-url)")] = None,
    judge_api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the judge's key (default: --api-key-env)")] = None,
    dataset: Annotated[str, typer.Option(help="Dataset version under evals/datasets/")] = "v1",
    turn_timeout: Annotated[float, typer.Option(min=5, help="Seconds a turn may take")] = 180.0,
    scenario: Annotated[list[str] | None, typer.Option(help="Only this scenario id (repeatable)")] = None,
) -> None:
    """Run a suite and write results.json, report.md and report.html."""
    from evals.dataset import DatasetError  # the server stack: imported when the command runs (module docstring)
    from evals.judge import Judge
    from evals.langsmith_upload import upload_if_configured
    from evals.reports import headline
    from evals.runner import ResumeError, RunOptions, run_suite
    from evals.server import ModelChoice, ServerStartError, server_overrides, started_server

    if url and (base_url or api_key_env):
        fail("--base-url and --api-key-env choose the model of the server the runner starts; with --url the "
             "server's own model answers", 2)
    choice = ModelChoice(model, base_url, api_key_env)
    try:
        settings = settings_or_exit(**(server_overrides(choice) if url is None else {}))
    except ServerStartError as exc:
        fail(str(exc), 2)
    label = model or (settings.model_name if url is None else f"the server at {url}")
    options = RunOptions(suite=suite, dataset=dataset, model=label, concurrency=concurrency, repeat=repeat,
                         out=out_dir, resume=resume, turn_timeout=turn_timeout, scenario_ids=tuple(scenario or ()))
    urls = prepared(settings)
    if (judge_base_url or judge_api_key_env) and not judge_model:
        fail("--judge-base-url and --judge-api-key-env need --judge-model", 2)
    try:
        judge = Judge.from_flags(judge_model, judge_base_url or base_url,
                                 judge_api_key_env or api_key_env) if judge_model else None
    except ValueError as exc:
        fail(str(exc), 2)

    async def go(target: str) -> dict[str, object]:
        return await run_suite(options, settings, target, urls, judge=judge, console=err)

    try:
        if url is None:
            with started_server(settings, urls) as target:
                results = asyncio.run(go(target))
        else:
            results = asyncio.run(go(url))
    except (DatasetError, ResumeError, ServerStartError) as exc:
        fail(str(exc), 2)
    upload_if_configured(results, err)
    out.print(headline(results), highlight=False, soft_wrap=True)
    out.print(f"reports: {out_dir / 'results.json'}, {out_dir / 'report.md'}, {out_dir / 'report.html'}",
              highlight=False, soft_wrap=True)


@evals_app.command("compare")
def compare(
    a: Annotated[Path, typer.Argument(help="results.json of the earlier run (or its directory)")],
    b: Annotated[Path, typer.Argument(help="results.json of the later run (or its directory)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON")] = False,
) -> None:
    """What got better and worse from run A to run B."""
    from evals.reports import compare as compared

    def load(path: Path) -> dict[str, object]:
        path = path / "results.json" if path.is_dir() else path
        try:
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError) as exc:
            fail(f"{path}: {exc}", 2)

    diff = compared(load(a), load(b))
    if as_json:
        out.print_json(json.dumps(diff))
        return
    rate = diff["pass_rate"]
    out.print(f"pass rate {rate['a'] * 100:.1f}% -> {rate['b'] * 100:.1f}%; approval compliance "
              f"{diff['approval_compliance']['a'] * 100:.1f}% -> {diff['approval_compliance']['b'] * 100:.1f}%",
              highlight=False, soft_wrap=True)
    out.print(f"better ({len(diff['better'])}): {', '.join(diff['better']) or 'none'}", highlight=False, soft_wrap=True)
    out.print(f"worse ({len(diff['worse'])}): {', '.join(diff['worse']) or 'none'}", highlight=False, soft_wrap=True)
    for group in ("per_category", "per_tool"):
        moved = {k: v for k, v in diff[group].items() if v}
        if moved:
            out.print(f"{group.replace('_', ' ')}: " + ", ".join(f"{k} {v * 100:+.1f}" for k, v in moved.items()),
                      highlight=False, soft_wrap=True)
