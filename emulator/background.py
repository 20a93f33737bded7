"""The emulator on a thread of its own, for a graph running outside our server (`langgraph dev`, notebooks).

Our server mounts the emulator under `/_emulator` of its own port; a graph served by someone else's server has
no such port, so the first DocuSign call starts one here on a free loopback port for the life of the process.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from emulator.standalone import build_standalone_app

_started: str | None = None
_lock = threading.Lock()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_background_emulator(snapshot_path: object = None) -> str:
    """Start once per process; returns the emulator's root URL (…/_emulator)."""
    global _started
    with _lock:
        if _started is not None:
            return _started
        port = _free_port()
        app = build_standalone_app(snapshot_path=snapshot_path)  # type: ignore[arg-type]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, name="docusign-emulator", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the background DocuSign emulator did not start")
            time.sleep(0.01)
        _started = f"http://127.0.0.1:{port}/_emulator"
        return _started
