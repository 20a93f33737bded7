"""Secrets generated into DATA_DIR: made once, private, and the same for every process that races to make them."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from docusign_agent.secrets import data_dir_secret, random_secret


def _make(data_dir: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(data_dir_secret(Path(data_dir), "shared", random_secret))


def test_processes_racing_to_create_a_secret_all_read_the_same_whole_value(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [context.Process(target=_make, args=(str(tmp_path), queue)) for _ in range(6)]
    for proc in procs:
        proc.start()
    values = {queue.get(timeout=60) for _ in procs}
    for proc in procs:
        proc.join(60)
    assert len(values) == 1 and len(values.pop()) == 43  # 32 random bytes, urlsafe base64 without padding
    secrets_dir = tmp_path / "secrets"
    assert [p.name for p in secrets_dir.iterdir()] == ["shared"]  # no temporary file left behind
    assert stat.S_IMODE((secrets_dir / "shared").stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700


def test_an_existing_secret_is_read_not_replaced(tmp_path: Path) -> None:
    first = data_dir_secret(tmp_path, "kept", random_secret)
    assert data_dir_secret(tmp_path, "kept", lambda: "something else") == first
