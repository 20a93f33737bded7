"""`POST /webhooks/docusign`: verify, store, acknowledge. Nothing else happens on the request path.

A plain ASGI endpoint (no body parsing by the framework): the raw bytes are read up to
`WEBHOOK_MAX_BODY_BYTES` (413 beyond, without reading further), verified against every configured HMAC key
(`X-DocuSign-Signature-1..N`, any header matching any key passes: rotation), and stored in one INSERT. The
answer is 200 only once that row is committed; 503 when the database does not answer, so DocuSign retries;
500 when it answers with an error only an administrator can fix (missing grants, a missing table), logged as
such rather than disguised as an outage; 401 for a missing or wrong signature, leaving nothing behind but a
counter and a log line.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from api.errors import RETRY_AFTER_SECONDS
from docusign_agent.metrics import WEBHOOK_DELIVERIES
from docusign_client.connect import WEBHOOK_PATH
from runtime.webhooks.parse import classify, verify_signature
from runtime.webhooks.service import StoreRefused, StoreUnavailable, WebhookService

log = logging.getLogger(__name__)

PATH = WEBHOOK_PATH


async def _answer(send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "message": message, "detail": message}


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "unknown"


class ConnectReceiver:
    """The ASGI app behind the route; finds the process's WebhookService on `app.state.webhooks`."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        service: WebhookService | None = getattr(scope["app"].state, "webhooks", None)
        if service is None or service.pool is None:
            await _answer(send, 503, _error("unavailable", "the webhook receiver is starting"),
                          [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
            return
        headers = scope["headers"]
        limit = service.max_body
        for name, value in headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    return await self._too_large(send, limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender gave up: nothing stored, nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._too_large(send, limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        verdict = verify_signature(body, headers, service.keys)
        if not verdict:
            outcome = "unsigned" if verdict is None else "bad_signature"
            WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
            log.warning("connect delivery refused from %s: %s (%d bytes)", _client(scope),
                        "no X-DocuSign-Signature header" if verdict is None else "no signature matches a key", size)
            await _answer(send, 401, _error("invalid_signature",
                                            "X-DocuSign-Signature-N must be the HMAC-SHA256 of the body with a "
                                            "configured Connect key"))
            return

        found = classify(body)
        error = None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            text, error = body.decode("utf-8", "backslashreplace"), f"body is not UTF-8: {exc}"
        if "\x00" in text:
            text, error = text.replace("\x00", "\\x00"), error or "body contains NUL characters"
        try:
            event_id, inserted = await service.store(found, text, error)
        except StoreUnavailable as exc:
            WEBHOOK_DELIVERIES.labels(outcome="unavailable").inc()
            log.error("connect delivery not stored (database unavailable): %s", exc)
            await _answer(send, 503, _error("unavailable", "the event could not be stored; retry later"),
                          [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
            return
        except StoreRefused as exc:
            WEBHOOK_DELIVERIES.labels(outcome="refused_by_database").inc()
            log.error("connect delivery not stored: the database refused it, which needs an administrator "
                      "(check the grants of the webhook role and that migrations ran): %s", exc)
            await _answer(send, 500, _error("storage_error", "the event could not be stored because of a database "
                                            "error an administrator must fix; it was not acknowledged"))
            return
        stored_ok = found.ok and error is None
        outcome = ("stored" if stored_ok else "malformed") if inserted else "duplicate"
        WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
        if not stored_ok and inserted:
            log.warning("connect delivery %d stored as failed: %s", event_id, error or found.error)
        await _answer(send, 200, {"ok": True, "id": event_id, "duplicate": not inserted,
                                  **({} if stored_ok else {"status": "failed"})})

    @staticmethod
    async def _too_large(send: Any, limit: int) -> None:
        WEBHOOK_DELIVERIES.labels(outcome="too_large").inc()
        log.warning("connect delivery refused: body larger than %d bytes", limit)
        await _answer(send, 413, _error("payload_too_large", f"the body is larger than {limit} bytes"),
                      [(b"connection", b"close")])


class WebhookFastPath:
    """Outermost ASGI middleware: `POST /webhooks/docusign` goes straight to the receiver.

    Connect deliveries need none of the layers the rest of the API has (CORS, auth, routing through the
    LangGraph routes, exception rendering): the receiver reads and limits the body itself and always answers
    JSON. Skipping them is most of the per-request CPU, which is what bounds acknowledgements per second.
    Everything else passes through untouched.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.receiver = ConnectReceiver()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            await self.receiver(scope, receive, send)
            return
        await self.app(scope, receive, send)
