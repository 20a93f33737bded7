"""Assembles the emulator as a FastAPI sub-application meant to be mounted under `/_emulator`.

Because Starlette does not run a mounted app's lifespan, the parent must drive the background machinery:

    emulator_app = create_emulator_app(snapshot_path=settings.emulator_snapshot_path)
    parent.mount("/_emulator", emulator_app)
    # in the parent's lifespan:
    async with emulator_app.state.emulator.lifespan():
        yield

The dispatcher also starts itself on the first Connect event, so forgetting this degrades only shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from emulator import bulk, connect, control, documents, envelopes, oauth, recipients, signing_page, templates
from emulator.errors import install_error_handlers
from emulator.limits import EmulatorMiddleware
from emulator.runtime import Emulator
from emulator.state import EmulatorState, load_snapshot


def create_emulator_app(state: EmulatorState | None = None, *, snapshot_path: Path | None = None) -> FastAPI:
    if state is None:
        state = load_snapshot(snapshot_path) if snapshot_path is not None else EmulatorState()
    emu = Emulator(state, snapshot_path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with emu.lifespan():
            yield

    app = FastAPI(
        title="DocuSign eSignature emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.emulator = emu
    install_error_handlers(app)
    for module in (oauth, envelopes, recipients, documents, templates, bulk, connect, signing_page, control):
        app.include_router(module.router)
    app.add_middleware(
        EmulatorMiddleware,
        limiter=emu.limiter,
        faults=emu.faults,
        config=emu.config,
        known_account=lambda account_id: account_id in emu.state.accounts,
        requests=emu.requests,
    )
    return app
