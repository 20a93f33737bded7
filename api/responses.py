"""Response shapes the routes share: JSON encoded once by the runs layer's serde, SSE streams, and downloads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Response
from starlette.responses import StreamingResponse

from runtime.runs import serde


def json_response(body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Any state or stream value as JSON (messages, interrupts, datetimes: see `runtime/runs/serde.py`)."""
    return Response(serde.dumps(body), status_code=status_code, media_type="application/json",
                    headers=dict(headers) if headers else None)


def sse_response(body: AsyncIterator[bytes], headers: Mapping[str, str] | None = None) -> StreamingResponse:
    """Server-sent events that no proxy buffers or caches."""
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **(headers or {})},
    )


def attachment(filename: str) -> str:
    """A Content-Disposition that keeps any file name intact (RFC 6266: ASCII fallback plus UTF-8 name)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f'attachment; filename="{fallback}"; filename*=UTF-8\'\'{quote(filename, safe="")}'
