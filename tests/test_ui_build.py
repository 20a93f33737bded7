"""The committed chat UI build is the build of the committed sources.

`ui/stamp.ts` hashes every file the build is made from and writes the hash into the build (`build.json` and a
`<meta name="build-stamp">` in index.html); this test computes the same hash in Python, so a source change
without a rebuild (or a hand-edited build) fails CI on a machine with no Node.js. Where `ui/node_modules` exists
(after `npm ci` in ui/) it also rebuilds into a temporary folder and compares every file byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.ui import STATIC_DIR
from tests.conftest import REPO

UI = REPO / "ui"
# The same list as STAMPED in ui/stamp.ts.
STAMPED = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "stamp.ts", "src",
           "public"]


def source_hash() -> str:
    paths: list[str] = []
    for entry in STAMPED:
        path = UI / entry
        if path.is_dir():
            paths += [p.relative_to(UI).as_posix() for p in path.rglob("*") if p.is_file()]
        elif path.is_file():
            paths.append(entry)
    outer = hashlib.sha256()
    for rel in sorted(paths):
        outer.update(f"{rel}\0{hashlib.sha256((UI / rel).read_bytes()).hexdigest()}\n".encode())
    return outer.hexdigest()


def test_the_stamp_list_matches_stamp_ts() -> None:
    listed = re.search(r"export const STAMPED = \[(.*?)\];", (UI / "stamp.ts").read_text(), re.S)
    assert listed is not None
    assert re.findall(r'"([^"]+)"', listed.group(1)) == STAMPED


def test_committed_build_matches_the_sources() -> None:
    expected = source_hash()
    stamp = json.loads((STATIC_DIR / "build.json").read_text())["source_hash"]
    assert stamp == expected, "the UI build is stale: run `npm ci && npm run build` in ui/ and commit api/static/ui"
    index = (STATIC_DIR / "index.html").read_text()
    assert f'<meta name="build-stamp" content="{expected}" />' in index


def test_the_build_loads_nothing_from_outside() -> None:
    index = (STATIC_DIR / "index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', index)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    for ref in references:
        assert (STATIC_DIR / ref.lstrip("/")).is_file(), ref
    for css in STATIC_DIR.glob("assets/*.css"):
        text = css.read_text()
        assert "@import" not in text and not re.search(r"url\((?!['\"]?(?:data:|/))", text), css.name
        assert "@font-face" not in text  # system fonts only


@pytest.mark.skipif(not (UI / "node_modules").is_dir() or shutil.which("npx") is None,
                    reason="rebuild check needs `npm ci` in ui/ (Node.js 20+)")
def test_a_fresh_build_is_byte_for_byte_the_committed_one(tmp_path: Path) -> None:
    out = tmp_path / "build"
    subprocess.run(["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"], cwd=UI,
                   check=True, timeout=300)
    built = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(STATIC_DIR).as_posix(): p.read_bytes() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert sorted(built) == sorted(committed)
    assert [name for name in built if built[name] != committed[name]] == []
