"""`serve --workers N`: several processes on one port sharing runs through Redis and Postgres, with one
emulator served apart; and the clear refusals when that cannot work."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from docusign_agent.settings import Settings
from tests.api_helpers import RedisProcess
from tests.servers import free_port

CLI = [sys.executable, "-m", "cli.main"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "AUTH_", "PORT", "REDIS_URL", "DOCUSIGN_", "TEST_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "AUTH_JWT_SECRET": "s-" + secrets.token_hex(16)}, **extra)
    return env


def wait_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"process exited with {proc.returncode}"
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, "--workers > 1 needs REDIS_URL"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "set DOCUSIGN_EMULATOR_URL"),
])
def test_workers_refused_when_they_cannot_share(tmp_path: Path, settings: Settings, extra: dict[str, str],
                                                expected: str) -> None:
    env = env_for(tmp_path, DATABASE_URL=str(settings.database_url), **extra)
    result = subprocess.run([*CLI, "serve", "--workers", "2", "--port", str(free_port())], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
async def test_two_workers_answer_concurrent_conversations(tmp_path: Path, settings: Settings) -> None:
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url and not RedisProcess.available():
        pytest.skip("needs REDIS_URL or a redis-server binary to start one")
    with ExitStack() as stack:
        if not redis_url:
            redis_url = stack.enter_context(RedisProcess()).url
        emulator_port, port = free_port(), free_port()
        env = env_for(tmp_path, DATABASE_URL=str(settings.database_url), REDIS_URL=redis_url,
                      DOCUSIGN_EMULATOR_URL=f"http://127.0.0.1:{emulator_port}/_emulator",
                      HEADER_READ_TIMEOUT_SECONDS="3")
        procs = []
        try:
            procs.append(subprocess.Popen([*CLI, "emulator", "--port", str(emulator_port)], cwd=tmp_path, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_ok(f"http://127.0.0.1:{emulator_port}/_emulator/config", procs[-1])
            procs.append(subprocess.Popen([*CLI, "serve", "--workers", "2", "--port", str(port)], cwd=tmp_path,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_ok(f"http://127.0.0.1:{port}/ok", procs[-1])
            token = subprocess.run([*CLI, "token", "--user", "workers@example.com"], cwd=tmp_path, env=env,
                                   capture_output=True, text=True, check=True).stdout.strip()
            client = get_client(url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                                timeout=60)

            async def conversation() -> str:
                thread = await client.threads.create()
                state = await client.runs.wait(thread["thread_id"], "agent", input={
                    "messages": [{"type": "human", "content": "what templates do I have"}]})
                return str(state["messages"][-1]["content"])

            answers = await asyncio.gather(*(conversation() for _ in range(8)))
            assert all("Mutual NDA" in a for a in answers), answers
            assert (await client.threads.search(limit=50)).__len__() >= 8
            # The workers read connections through `api/connections.py` too: half a request head is a 408.
            with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                sock.settimeout(60)
                sock.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 408 Request Timeout")
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
