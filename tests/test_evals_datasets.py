"""The planner stays honest: no person's words from any dataset appear in its source, and the held-out set
(`evals/datasets/holdout`, written to measure how the planner meets wording it was never tuned on) shares no
scenario or sentence with the suite the planner was developed against."""

from __future__ import annotations

import re
from pathlib import Path

from evals.dataset import load

PLANNER = Path(__file__).resolve().parents[1] / "emulator" / "offline_model"


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\{[a-z]+:[a-z0-9_]+\}", "", text.casefold())).strip()


def test_no_dataset_sentence_is_in_the_planner() -> None:
    source = _words(" ".join(p.read_text(encoding="utf-8") for p in PLANNER.rglob("*.py")))
    turns = {_words(t.user) for version in ("v1", "holdout") for s in load(version) for t in s.turns}
    found = sorted(t for t in turns if len(t) >= 24 and len(t.split()) >= 4 and t in source)
    assert found == []


def test_the_held_out_set_is_apart_from_the_suite() -> None:
    suite, held = load("v1"), load("holdout")
    assert len(held) >= 30
    assert not {s.id for s in suite} & {s.id for s in held}
    assert not {_words(t.user) for s in suite for t in s.turns} & {_words(t.user) for s in held for t in s.turns}
