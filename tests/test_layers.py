"""The floors hold: each package imports only the floors below it (import-linter, contracts in pyproject.toml).

grimp, under import-linter, reads every import statement of a module, those inside functions and under
`if TYPE_CHECKING:` included, so an upward import cannot hide in a function body. The second test proves the
check can fail: a copy of the packages with one upward import (of each kind) must break a contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES: list[str] = CONFIG["root_packages"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", "pyproject.toml"],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=300)


def test_every_package_is_on_a_floor() -> None:
    top_level = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests"}
    assert top_level <= set(PACKAGES), f"packages outside the floors: {sorted(top_level - set(PACKAGES))}"


def test_the_floors_hold() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "bad_import", "broken"), [
    ("db/urls.py", "def _late():\n    from api import app\n", "Floors import only the floors below them"),
    ("tools/base.py", "if False:\n    import agent.graph\n", "Floors import only the floors below them"),
    ("emulator/state.py", "import db.models\n", "Floors import only the floors below them"),
    ("docusign_client/cache.py", "def _x():\n    import emulator.app\n", "Below the agent, nothing imports the emulator"),
    ("runtime/webhooks/admin.py", "from runtime.runs import store\n", "In the runtime, runs and webhooks share"),
])
def test_an_upward_import_breaks_a_contract(tmp_path: Path, module: str, bad_import: str, broken: str) -> None:
    for package in PACKAGES:
        if (REPO / package).is_dir():
            shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.pdf"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + "\n\n" + bad_import)
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout, result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert importer in result.stdout, result.stdout
