"""The webhooks side API: the Connect receiver, its worker, and the routes that read the mirror.

`app.py` wires it with three lines: `app.include_router(webhooks.router)` for the routes,
`app.add_middleware(webhooks.WebhookFastPath)` (last, so outermost) to take deliveries past the API's layers,
and `async with webhooks.running(app, settings, database):` in the lifespan for the pool and the worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.webhooks import events, mirror
from api.webhooks.receiver import PATH, ConnectReceiver, WebhookFastPath
from runtime.webhooks.service import WebhookService
from runtime.webhooks.worker import WebhookWorker, user_stream
from db.session import Database
from docusign_agent.settings import Settings

router = APIRouter()
router.add_route(PATH, ConnectReceiver(), methods=["POST"], include_in_schema=False, name="docusign_connect")
router.include_router(mirror.router)
router.include_router(events.router)


@asynccontextmanager
async def running(app: FastAPI, settings: Settings, database: Database, *, worker: bool = True) -> AsyncIterator[None]:
    """Start the receiver's pool and this process's worker; stop them on the way out.

    Uses the app's bus (`app.state.bus`) when the lifespan has made one, else makes and owns one.
    """
    own_bus = None
    bus = getattr(app.state, "bus", None)
    if bus is None:
        from runtime.bus import make_bus

        bus = own_bus = make_bus(settings)
        app.state.bus = bus
    service = WebhookService(settings, database, bus, worker=worker)
    await service.start()
    app.state.webhooks = service
    try:
        yield
    finally:
        await service.stop()
        app.state.webhooks = None
        if own_bus is not None:
            await own_bus.aclose()


__all__ = ["PATH", "WebhookFastPath", "WebhookService", "WebhookWorker", "router", "running", "user_stream"]
