"""`docusign-agent emulator --port P`: the emulator alone, mounted at `/_emulator` as in the product.

The CLI passes `settings.emulator_snapshot_path` as `snapshot_path` to keep state across restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from emulator.app import create_emulator_app
from emulator.runtime import Emulator


def build_standalone_app(snapshot_path: Path | None = None) -> FastAPI:
    emulator_app = create_emulator_app(snapshot_path=snapshot_path)
    emu: Emulator = emulator_app.state.emulator

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with emu.lifespan():
            yield

    parent = FastAPI(title="DocuSign emulator (standalone)", lifespan=lifespan, docs_url=None, redoc_url=None)
    parent.state.emulator = emu

    @parent.get("/")
    async def index() -> dict[str, str]:
        return {"emulator": "/_emulator", "rest": "/_emulator/restapi", "oauth": "/_emulator/oauth"}

    parent.mount("/_emulator", emulator_app)
    return parent
