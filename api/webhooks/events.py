"""`GET /v1/events`: Server-Sent Events of the user's envelope and bulk-send updates.

Fed by the bus stream `user:{user_id}:envelopes` (Redis Streams across processes), so a client connected to
any server process sees updates applied by any other. `Last-Event-ID` (or `?last_event_id=`) resumes after the
last event received; `0` replays everything retained. Frames: `ready` first, sent only once the subscription is
open (so an update published right after a client saw `ready` reaches it), then `event: envelope|bulk`,
`data: <json>`, `id: N`, and a comment line every `heartbeat` seconds so proxies keep the connection open.
When the server shuts down the stream ends cleanly (its last chunk sent), and the client's EventSource comes
back with Last-Event-ID to a server that is up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Header, Query
from sse_starlette.sse import EventSourceResponse

from api.auth import CurrentPrincipal
from api.deps import Bus
from docusign_agent.metrics import STREAM_CLIENTS
from runtime.bus import InvalidEventId
from runtime.webhooks.worker import user_stream

router = APIRouter(prefix="/v1", tags=["v1"])

# How long sse-starlette waits, once shutdown begins, for a stream to end by itself before cutting it; well
# inside `serve`'s graceful shutdown (5 s).
SHUTDOWN_GRACE_SECONDS = 2.0


@router.get("/events")
async def events(
    bus: Bus,
    principal: CurrentPrincipal,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    heartbeat: Annotated[float, Query(ge=0.5, le=120)] = 15.0,
) -> EventSourceResponse:
    stream = user_stream(principal.user_id)
    resume = (last_event_id or last_event_id_query or "").strip() or None
    shutdown = anyio.Event()  # set by sse-starlette when the server begins to shut down

    async def frames() -> AsyncIterator[dict[str, Any]]:
        STREAM_CLIENTS.inc()
        try:
            # Ended by the shutdown event, not cancelled: a cancelled response is cut mid-body (uvicorn logs
            # "ASGI callable returned without completing response"; the client sees a broken chunked body).
            async with bus.subscription(stream, last_id=resume, stop=shutdown) as messages:
                yield {"event": "ready", "data": orjson.dumps({"stream": "envelopes", "resumed_after": resume}).decode()}
                async for message in messages:
                    yield {"id": message.id, "event": message.event, "data": message.data.decode()}
        except InvalidEventId as exc:
            yield {"event": "error", "data": orjson.dumps({"error": "invalid_last_event_id",
                                                           "message": str(exc)}).decode()}
        finally:
            STREAM_CLIENTS.dec()

    return EventSourceResponse(frames(), ping=heartbeat, headers={"Cache-Control": "no-cache",
                                                                  "X-Accel-Buffering": "no"},
                               shutdown_event=shutdown, shutdown_grace_period=SHUTDOWN_GRACE_SECONDS)
