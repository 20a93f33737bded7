"""The server an eval run talks to: one it starts itself (the product as `serve` runs it, on a free loopback
port, with the model the flags name), or one already running at `--url`.

Either way the runner reaches it only over HTTP. It mints each scenario's user a bearer token with the server's
JWT secret, so a server named by `--url` must share this machine's `DATA_DIR` (or `AUTH_JWT_SECRET`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from api.app import create_app
from db.bootstrap import prepare
from db.session import DatabaseUrls
from docusign_agent.settings import Settings


class ServerStartError(Exception):
    """The eval server could not be started; the message says what to fix."""


@dataclass(frozen=True)
class ModelChoice:
    """The model the started server answers with: the offline model unless a base URL or key is given."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None

    def overrides(self) -> dict[str, object]:
        values: dict[str, object] = {}
        if self.model:
            values["model"] = self.model
        if self.base_url:
            values["openai_base_url"] = self.base_url
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ServerStartError(f"--api-key-env {self.api_key_env}: that environment variable is not set")
            values["openai_api_key"] = key
        elif self.base_url:
            values["openai_api_key"] = "unused"  # many local OpenAI-compatible servers take any key
        return values


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_overrides(choice: ModelChoice) -> dict[str, object]:
    """The settings a started eval server differs in: a free loopback port, nothing public, the chosen model."""
    quiet = {} if "LOG_LEVEL" in os.environ else {"log_level": "WARNING"}  # the progress bar, not request logs
    return {"host": "127.0.0.1", "port": _free_port(), "public_url": None, **quiet, **choice.overrides()}


@contextmanager
def started_server(settings: Settings, urls: DatabaseUrls | None = None) -> Iterator[str]:
    """The product's app under uvicorn on its own thread for as long as the block runs; yields its base URL."""
    urls = urls or prepare(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, urls), host="127.0.0.1", port=settings.port,
                                           log_level="warning", lifespan="on", timeout_graceful_shutdown=5))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="evals-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 180
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServerStartError("the eval server did not start (see the log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
