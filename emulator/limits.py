"""Rate limits, injected faults and the trace header, as one ASGI middleware around the whole emulator.

Clients must be built against DocuSign's limits (3,000/hour, 500/30 s) and its flakiness; this is where
both are reproduced on demand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.errors import DocuSignError
from emulator.request_log import RequestLog, body_status
from emulator.state import EmulatorConfig

log = logging.getLogger(__name__)
ACCOUNT_PATH = re.compile(r"^/restapi/v2(?:\.1)?/accounts/([^/]+)")
FAULT_KINDS = ("500", "429", "limit", "timeout", "latency")
HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class RateLimiter:
    def __init__(self, config: Callable[[], EmulatorConfig]) -> None:
        self._config = config
        self._hourly: dict[str, tuple[int, int]] = {}
        self._burst: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self._hourly.clear()
        self._burst.clear()

    def hit(self, account_id: str) -> tuple[dict[str, str], DocuSignError | None]:
        cfg = self._config()
        now = time.time()
        window = int(now // 3600) * 3600
        start, count = self._hourly.get(account_id, (window, 0))
        if start != window:
            start, count = window, 0
        burst = self._burst.setdefault(account_id, deque())
        while burst and burst[0] <= now - 30:
            burst.popleft()
        error: DocuSignError | None = None
        status = 429 if cfg.answer_429 else 400
        if count >= cfg.rate_limit_per_hour:
            error = DocuSignError(
                "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
                f"The maximum number of hourly API invocations has been exceeded. The hourly limit is "
                f"{cfg.rate_limit_per_hour}.",
                status,
            )
        elif len(burst) >= cfg.burst_limit_per_30s:
            error = DocuSignError(
                "BURST_APIINVOCATION_LIMIT_EXCEEDED",
                f"The maximum number of burst API invocations has been exceeded. The burst limit is "
                f"{cfg.burst_limit_per_30s} per 30 seconds.",
                status,
            )
        else:
            count += 1
            burst.append(now)
        self._hourly[account_id] = (start, count)
        headers = {
            "X-RateLimit-Limit": str(cfg.rate_limit_per_hour),
            "X-RateLimit-Remaining": str(max(0, cfg.rate_limit_per_hour - count)),
            "X-RateLimit-Reset": str(window + 3600),
            "X-BurstLimit-Limit": str(cfg.burst_limit_per_30s),
            "X-BurstLimit-Remaining": str(max(0, cfg.burst_limit_per_30s - len(burst))),
        }
        return headers, error


@dataclass
class Fault:
    fault_id: str
    route: str
    method: str | None
    pattern: re.Pattern[str]
    kind: str
    rate: float = 1.0
    latency_ms: int = 0
    count: int | None = None
    after: bool = False
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "route": self.route,
            "kind": self.kind,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "count": self.count,
            "after": self.after,
            "fired": self.fired,
        }


@dataclass
class FaultRegistry:
    faults: list[Fault] = field(default_factory=list)

    def add(self, spec: dict[str, Any]) -> Fault:
        route = spec.get("route")
        if not isinstance(route, str) or not route.strip():
            raise ValueError("'route' must be a non-empty regex or 'METHOD path-regex'")
        method: str | None = None
        head, _, rest = route.strip().partition(" ")
        pattern_text = route.strip()
        if head.upper() in HTTP_METHODS and rest.strip():
            method, pattern_text = head.upper(), rest.strip()
        try:
            pattern = re.compile(pattern_text)
        except re.error as exc:
            raise ValueError(f"'route' is not a valid regex: {exc}") from exc
        kind = str(spec.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(FAULT_KINDS)}")
        rate = spec.get("rate", 1.0)
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError("'rate' must be a number between 0 and 1")
        latency = spec.get("latency_ms", 1000 if kind == "latency" else 30000 if kind == "timeout" else 0)
        if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
            raise ValueError("'latency_ms' must be a non-negative integer")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("'count' must be a positive integer or null")
        after = spec.get("after", False)
        if not isinstance(after, bool):
            raise ValueError("'after' must be a boolean")
        fault = Fault(uuid.uuid4().hex[:12], route, method, pattern, kind, float(rate), latency, count, after)
        self.faults.append(fault)
        return fault

    def pick(self, method: str, path: str) -> Fault | None:
        for fault in list(self.faults):
            if not fault.matches(method, path) or random.random() >= fault.rate:
                continue
            fault.fired += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault
        return None


def fault_error(kind: str, cfg: EmulatorConfig) -> DocuSignError:
    if kind == "429":
        return DocuSignError(
            "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
            "The maximum number of hourly API invocations has been exceeded.",
            429,
        )
    if kind == "limit":
        return DocuSignError(
            "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
            f"The maximum number of hourly API invocations has been exceeded. The hourly limit "
            f"is {cfg.rate_limit_per_hour}.",
            429 if cfg.answer_429 else 400,
        )
    if kind == "timeout":
        return DocuSignError("UNSPECIFIED_ERROR", "The request timed out (injected fault).", 504)
    return DocuSignError(
        "UNSPECIFIED_ERROR", "An unexpected error occurred on the server (injected fault).", 500
    )


class EmulatorMiddleware:
    """Applies to /restapi and /oauth only; control endpoints stay reliable so tests can always steer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        faults: FaultRegistry,
        config: Callable[[], EmulatorConfig],
        known_account: Callable[[str], bool],
        requests: RequestLog | None = None,
    ) -> None:
        self.app = app
        self.requests = requests
        self.limiter = limiter
        self.faults = faults
        self.config = config
        self.known_account = known_account

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if self.requests is None or not path.startswith("/restapi"):
            await self._handle(scope, receive, send, path)
            return
        # Logged: what the request asked (method, path, the body's `status`) and what it was answered.
        body = bytearray()
        answered = {"status": 0, "trace": ""}

        async def receive_logged() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = int(message["status"])
                for key, value in message.get("headers", []):
                    if key == b"x-docusign-tracetoken":
                        answered["trace"] = value.decode()
            await send(message)

        try:
            await self._handle(scope, receive_logged, send_logged, path)
        finally:
            match = ACCOUNT_PATH.match(path)
            self.requests.add(method=scope["method"], path=path, query=scope.get("query_string", b"").decode(),
                              account_id=match.group(1) if match else None, status_code=int(answered["status"]),
                              trace_token=str(answered["trace"]), body_status=body_status(bytes(body)))

    async def _handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        trace = str(uuid.uuid4())
        extra: dict[str, str] = {"X-DocuSign-TraceToken": trace}
        api = path.startswith(("/restapi", "/oauth"))

        if api:
            match = ACCOUNT_PATH.match(path)
            if match and self.known_account(match.group(1)):
                headers, error = self.limiter.hit(match.group(1))
                extra.update(headers)
                if error is not None:
                    await self._send_error(send, error, extra)
                    return
            fault = self.faults.pick(scope["method"], path)
            if fault is not None:
                if fault.kind == "latency":
                    await asyncio.sleep(fault.latency_ms / 1000)
                elif fault.after:
                    await self.app(scope, receive, _discard)
                    await self._fault(send, fault, extra)
                    return
                else:
                    await self._fault(send, fault, extra)
                    return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("emulator request failed: %s %s", scope["method"], path)
            if started:
                raise
            await self._send_error(
                send, DocuSignError("UNSPECIFIED_ERROR", "An unexpected error occurred.", 500), extra
            )

    async def _fault(self, send: Send, fault: Fault, extra: dict[str, str]) -> None:
        if fault.kind == "timeout":
            await asyncio.sleep(fault.latency_ms / 1000)
        await self._send_error(send, fault_error(fault.kind, self.config()), extra)

    async def _send_error(self, send: Send, error: DocuSignError, extra: dict[str, str]) -> None:
        body = json.dumps(error.body()).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        if error.status == 429:
            headers.append((b"retry-after", b"30"))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _discard(_: Message) -> None:
    return None
