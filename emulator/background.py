"""The emulator on a thread of its own, for a graph running outside our server (`langgraph dev`, notebooks).

Our server mounts the emulator under `/_emulator` of its own port; a graph served by someone else's server has
no such port, so its dependencies (`agent.standalone`, built once per process) start one here on a free
loopback port, for the life of the process.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from emulator.standalone import build_standalone_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_background_emulator(snapshot_path: Path | None = None) -> str:
    """Blocking: start an emulator on a daemon thread and wait until it answers; returns its root (…/_emulator)."""
    port = _free_port()
    app = build_standalone_app(snapshot_path=snapshot_path)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="docusign-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the background DocuSign emulator did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}/_emulator"
