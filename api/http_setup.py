"""The HTTP layers around every route: CORS, body size limits and read timeouts, request ids, JSON logs, and
`/metrics`.

Limits are per path: uploads, run creation (messages may carry files) and Connect deliveries legitimately carry
more than a chat message, and the emulator takes base64 documents like DocuSign does; everything else gets
`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Response
from fastapi.responses import PlainTextResponse
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import CurrentPrincipal
from docusign_agent.logs import configure_logging
from api.middleware import (BodyReadTimeoutMiddleware, BodySizeLimitMiddleware, RequestIdMiddleware,
                            ServerErrorMiddleware, StorableInputMiddleware)
from docusign_agent.settings import Settings

MULTIPART_OVERHEAD = 64 * 1024
RUN_CREATION = re.compile(r"^(?:/threads/[^/]+)?/runs(?:/stream|/wait)?/?$")


def install_http_layers(app: FastAPI, settings: Settings) -> None:
    configure_logging(settings.log_level)
    limits: list[tuple[str | re.Pattern[str], int]] = [
        ("/v1/documents", settings.max_upload_bytes + MULTIPART_OVERHEAD),
        # Creating a run may carry files inside its messages (base64: 4 bytes for every 3).
        (RUN_CREATION, settings.max_upload_bytes * 4 // 3 + MULTIPART_OVERHEAD),
        ("/webhooks", settings.webhook_max_body_bytes),
        ("/_emulator", settings.max_upload_bytes * 2),
    ]
    # Added innermost first: requests pass RequestId -> CORS -> errors -> body read timeout -> size limit ->
    # storable input -> routes.
    app.add_middleware(StorableInputMiddleware, skip=["/_emulator"])
    app.add_middleware(BodySizeLimitMiddleware, default_limit=settings.max_body_bytes, limits=limits)
    app.add_middleware(BodyReadTimeoutMiddleware, timeout=settings.body_read_timeout_seconds)
    app.add_middleware(ServerErrorMiddleware)  # a 500 is JSON (with CORS headers) and one log line
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Content-Location", "Location", "X-Request-Id"],
        )
    app.add_middleware(RequestIdMiddleware)

    @app.get("/metrics", tags=["meta"], summary="Prometheus metrics (runs, streams, tool and DocuSign calls)",
             response_class=PlainTextResponse,
             responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
    async def metrics(principal: CurrentPrincipal) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
