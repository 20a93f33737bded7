"""Documents generated from code stay generated: a change to the code without regenerating them fails here."""

from __future__ import annotations

from docusign_agent.env_example import render
from tests.conftest import REPO


def test_env_example_is_current() -> None:
    assert (REPO / ".env.example").read_text() == render(), \
        "run: uv run python -m docusign_agent.env_example > .env.example"
