"""The webhooks side API: the Connect receiver and the routes that read the mirror and stream its changes.

`app.py` wires it with two lines: `app.include_router(webhooks.router)` for the routes, and
`app.add_middleware(webhooks.WebhookFastPath)` (last, so outermost) to take deliveries past the API's layers.
The receiver finds the process's `WebhookService` (`runtime/webhooks/service.py`) on `app.state.webhooks`.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.webhooks import events, mirror
from api.webhooks.receiver import PATH, ConnectReceiver, WebhookFastPath

router = APIRouter()
router.add_route(PATH, ConnectReceiver(), methods=["POST"], include_in_schema=False, name="docusign_connect")
router.include_router(mirror.router)
router.include_router(events.router)

__all__ = ["PATH", "WebhookFastPath", "router"]
