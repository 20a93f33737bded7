"""The command line as a person runs it: real subprocesses, real databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from db import migrate
from docusign_agent.settings import Settings
from tests.conftest import REPO, DatabaseFactory, role_urls, running_app
from tests.servers import free_port


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=env.get("CWD", REPO),
                          env=env, capture_output=True, text=True, timeout=timeout)


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AUTH_", "PORT", "REDIS_URL"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "CWD": str(tmp_path)}, **extra)
    return env


async def test_token_authenticates_against_protected_route(settings: Settings, tmp_path: Path) -> None:
    email = f"cli-{uuid.uuid4().hex[:6]}@Example.com"
    env = base_env(tmp_path, DATABASE_URL=str(settings.database_url), AUTH_JWT_SECRET=str(settings.auth_jwt_secret))
    result = cli("token", "--user", email, env=env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    async with running_app(create_app(settings, role_urls(str(settings.database_url)))) as client:
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == email.lower()
    again = cli("token", "--user", email, env=env)  # same profile the second time
    async with running_app(create_app(settings, role_urls(str(settings.database_url)))) as client:
        me2 = await client.get("/v1/me", headers={"Authorization": f"Bearer {again.stdout.strip()}"})
    assert me2.json()["user_id"] == me.json()["user_id"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"PORT": "eighty"}, "invalid setting PORT"),
        ({"DATABASE_URL": "mysql://x@localhost/db"}, "invalid setting DATABASE_URL"),
        ({"CREDENTIALS_ENCRYPTION_KEY": "short"}, "invalid setting CREDENTIALS_ENCRYPTION_KEY"),
        ({"REDIS_URL": "http://localhost"}, "invalid setting REDIS_URL"),
    ],
)
def test_bad_settings_give_one_line(tmp_path: Path, extra: dict[str, str], expected: str) -> None:
    result = cli("migrate", env=base_env(tmp_path, **extra))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started or written


def test_unreachable_database_names_masked_url(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    result = cli("migrate", env=base_env(tmp_path, DATABASE_URL=f"postgresql://bob:hunter2@127.0.0.1:{port}/x"))
    assert result.returncode == 1
    assert "hunter2" not in result.stderr and f"bob:***@127.0.0.1:{port}/x" in result.stderr
    assert "Connection refused" in result.stderr and "Traceback" not in result.stderr


def test_token_rejects_bad_email(tmp_path: Path) -> None:
    result = cli("token", "--user", "not-an-email", env=base_env(tmp_path))
    assert result.returncode == 2 and "--user" in result.stderr


def test_serve_on_embedded_defaults(tmp_path: Path) -> None:
    """No DATABASE_URL: serve starts embedded Postgres under DATA_DIR, answers /ok, and reuses it next time."""
    port = free_port()
    env = base_env(tmp_path)
    for attempt in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 240
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).json() == {"ok": True}:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "serve did not answer /ok"
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(30)
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()  # stopped on exit


def test_emulator_command_serves_the_sdk(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "emulator", "--port", str(port)],
                            cwd=tmp_path, env=base_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                created = httpx.post(f"http://127.0.0.1:{port}/_emulator/users", json={"email": "cli@example.com"}, timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert created.status_code == 201
        assert created.json()["base_uri"] == f"http://127.0.0.1:{port}/_emulator"
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_on_an_empty_database_stops_at_once_saying_migrate(
        tmp_path: Path, db_factories: dict[str, DatabaseFactory], main_backend: str) -> None:
    """A configured DATABASE_URL is migrated only by `migrate`: serve on an empty or older database stops with
    one line naming the command (no traceback, no wait), and starts once it has run."""
    url = db_factories[main_backend].create(migrated=False)
    env = base_env(tmp_path, DATABASE_URL=url)
    result = cli("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "has no docusign-agent schema" in lines[0] and "run `docusign-agent migrate`" in lines[0]

    migrate.upgrade(url, "0001")  # an older version's schema: named, with the revision this one needs
    result = cli("token", "--user", "older@example.com", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is at revision 0001; this version needs" in result.stderr and "docusign-agent migrate" in result.stderr

    assert cli("migrate", env=env).returncode == 0
    result = cli("token", "--user", "older@example.com", env=env)
    assert result.returncode == 0, result.stderr
