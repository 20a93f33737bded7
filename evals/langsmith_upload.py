"""LangSmith upload of a run's results, only when `LANGSMITH_API_KEY` is set: never required, and LangSmith is
never contacted otherwise (the client is not even built)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from rich.console import Console


def upload_if_configured(results: dict[str, Any], console: Console) -> bool:
    if not os.environ.get("LANGSMITH_API_KEY"):
        return False
    from langsmith import Client  # built only when a key is set (module docstring)

    client = Client()
    project = os.environ.get("LANGSMITH_PROJECT") or f"docusign-agent-evals-{results['suite']}"
    for case in results["cases"]:
        run_id, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
        client.create_run(name=case["scenario_id"], run_type="chain", project_name=project, id=run_id,
                          start_time=now, end_time=now,
                          inputs={"category": case["category"], "tools": case["tools"], "attempt": case["attempt"]},
                          outputs={"checks": case["checks"], "transcript": case["transcript"]})
        for check in case["checks"]:
            client.create_feedback(run_id, key=check["name"], score=float(check["passed"]),
                                   comment=check["detail"] or None)
    console.print(f"uploaded {len(results['cases'])} results to LangSmith project {project}", highlight=False)
    return True
