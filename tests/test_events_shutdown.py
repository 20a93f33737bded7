"""`/v1/events` across a server shutdown: the stream ends cleanly, so the client's EventSource reconnects with
Last-Event-ID instead of seeing a broken response, and the server logs no error for it. (The bus's `stop=`,
which makes that possible, is part of the bus contract: tests/test_api_bus.py.)
"""

from __future__ import annotations

import secrets
import signal
import uuid
from pathlib import Path

import httpx

from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.api_helpers import ServerProcess


def test_the_event_stream_ends_cleanly_when_the_server_stops(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess({"DATABASE_URL": settings.database_url or "", "AUTH_JWT_SECRET": settings.auth_jwt_secret or "",
                            "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}).start()
    try:
        token = issue_token(settings, uuid.uuid4(), f"shutdown-{secrets.token_hex(3)}@example.com")
        lines: list[str] = []
        with httpx.stream("GET", f"{server.url}/v1/events", headers={"Authorization": f"Bearer {token}"},
                          timeout=httpx.Timeout(60, read=120)) as response:
            assert response.status_code == 200
            for line in response.iter_lines():  # a cut-off chunked body raises here instead of ending
                lines.append(line)
                if line == "event: ready":
                    assert server.proc is not None
                    server.proc.terminate()
        assert "event: ready" in lines
        assert server.proc is not None
        assert server.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped on
        assert "without completing response" not in server.output()
        assert "ERROR" not in server.output(), server.output()[-3000:]
    finally:
        server.stop()
