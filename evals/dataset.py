"""Loading the versioned datasets: every `*.jsonl` under `evals/datasets/<version>/`, one scenario per line,
validated as it is read, so a mistake is an error naming the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from evals.schema import Scenario

DATASETS = Path(__file__).resolve().parent / "datasets"
DEFAULT_VERSION = "v1"
SUITES = ("smoke", "full")


class DatasetError(Exception):
    """A dataset file is not valid; the message names the file, line and problem."""


def load(version: str = DEFAULT_VERSION, root: Path = DATASETS) -> list[Scenario]:
    """A version under `evals/datasets/` ("v1"), or any folder of JSONL files given by its path."""
    folder = root / version if "/" not in version else Path(version)
    root = folder.parent
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DatasetError(f"no dataset files in {folder}")
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.relative_to(root)}:{number}"
            try:
                scenario = Scenario.model_validate(json.loads(line))
            except (ValueError, ValidationError) as exc:
                raise DatasetError(f"{where}: {exc}") from None
            if scenario.id in seen:
                raise DatasetError(f"{where}: scenario id {scenario.id!r} is also at {seen[scenario.id]}")
            seen[scenario.id] = where
            scenarios.append(scenario)
    return scenarios


def suite(scenarios: list[Scenario], name: str) -> list[Scenario]:
    if name not in SUITES:
        raise DatasetError(f"unknown suite {name!r}; one of {', '.join(SUITES)}")
    return scenarios if name == "full" else [s for s in scenarios if name in s.suites]
