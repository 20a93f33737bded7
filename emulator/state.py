"""The emulator's whole world as plain dataclasses, so a JSON snapshot can round-trip it exactly.

Everything lives in one process and one event loop, so mutations need no locks; handlers must simply not
`await` in the middle of a multi-step change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from docusign_agent.docusign_time import format_time

log = logging.getLogger(__name__)

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass
class User:
    user_id: str
    email: str
    name: str
    account_ids: list[str] = field(default_factory=list)


@dataclass
class Account:
    account_id: str
    name: str
    owner_user_id: str
    hmac_keys: list[str] = field(default_factory=list)
    connect_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_connect_id: int = 1000


@dataclass
class Document:
    document_id: str
    name: str
    pdf_base64: str
    order: int = 1
    document_id_guid: str = field(default_factory=new_id)


@dataclass
class Recipient:
    recipient_id: str
    kind: str  # "signer" | "carbonCopy"
    name: str
    email: str
    routing_order: int = 1
    client_user_id: str | None = None
    role_name: str | None = None
    tabs: dict[str, Any] = field(default_factory=dict)
    status: str = "created"
    recipient_id_guid: str = field(default_factory=new_id)
    sent_at: str | None = None
    delivered_at: str | None = None
    signed_at: str | None = None
    declined_at: str | None = None
    declined_reason: str | None = None


@dataclass
class AuditEvent:
    action: str
    at: str
    user_name: str
    message: str
    envelope_status: str
    client_ip: str = "127.0.0.1"


@dataclass
class Envelope:
    envelope_id: str
    account_id: str
    sender_user_id: str
    email_subject: str
    email_blurb: str = ""
    status: str = "created"
    documents: list[Document] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    text_custom_fields: list[dict[str, Any]] = field(default_factory=list)
    event_notification: dict[str, Any] | None = None
    template_id: str | None = None
    bulk_batch_id: str | None = None
    created_at: str = field(default_factory=format_time)
    last_modified_at: str = field(default_factory=format_time)
    status_changed_at: str = field(default_factory=format_time)
    sent_at: str | None = None
    initial_sent_at: str | None = None
    delivered_at: str | None = None
    completed_at: str | None = None
    declined_at: str | None = None
    voided_at: str | None = None
    voided_reason: str | None = None
    audit: list[AuditEvent] = field(default_factory=list)


@dataclass
class Template:
    template_id: str
    account_id: str
    owner_user_id: str
    name: str
    description: str
    email_subject: str
    email_blurb: str
    documents: list[Document] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    created_at: str = field(default_factory=format_time)


@dataclass
class Integration:
    integration_key: str
    secret_key: str | None = None
    public_key_pem: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    auto_consent: bool = False


@dataclass
class Grant:
    """An access token, refresh token or authorization code: who it speaks for and until when."""

    user_id: str
    integration_key: str
    scope: str
    expires_at: float
    redirect_uri: str | None = None


@dataclass
class BulkList:
    list_id: str
    account_id: str
    name: str
    bulk_copies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BulkBatch:
    batch_id: str
    account_id: str
    list_id: str
    batch_name: str
    envelope_or_template_id: str
    sender_user_id: str
    size: int
    submitted_at: str = field(default_factory=format_time)
    envelope_ids: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0


@dataclass
class EmulatorConfig:
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    connect_duplicate_rate: float = 0.0
    connect_shuffle: bool = False
    connect_shuffle_window: int = 5
    # DocuSign Connect's retry schedule for a failed delivery: the first retry after about 15 s, then
    # exponential backoff, hours apart after a day of failures, giving up after 45 retries or 7 days, whichever
    # comes first (tests shorten it through /_emulator/config).
    connect_max_retries: int = 45
    connect_retry_base_seconds: float = 15.0
    connect_retry_cap_seconds: float = 86400.0
    connect_retry_window_seconds: float = 7 * 86400.0
    connect_timeout_seconds: float = 10.0
    rate_limit_per_hour: int = 3000
    burst_limit_per_30s: int = 500
    answer_429: bool = False
    bulk_send_delay_seconds: float = 0.05


@dataclass
class ViewToken:
    envelope_id: str
    recipient_id: str
    return_url: str
    expires_at: float
    used: bool = False


@dataclass
class EmulatorState:
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    envelopes: dict[str, Envelope] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)
    consents: list[str] = field(default_factory=list)  # "integration_key|user_id"
    access_tokens: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    auth_codes: dict[str, Grant] = field(default_factory=dict)
    bulk_lists: dict[str, BulkList] = field(default_factory=dict)
    bulk_batches: dict[str, BulkBatch] = field(default_factory=dict)
    view_tokens: dict[str, ViewToken] = field(default_factory=dict)
    config: EmulatorConfig = field(default_factory=EmulatorConfig)

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def has_consent(self, integration_key: str, user_id: str) -> bool:
        return f"{integration_key}|{user_id}" in self.consents

    def grant_consent(self, integration_key: str, user_id: str) -> None:
        if not self.has_consent(integration_key, user_id):
            self.consents.append(f"{integration_key}|{user_id}")

    # --- snapshot ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmulatorState:
        return EmulatorState(
            users=_map(data.get("users"), User),
            accounts=_map(data.get("accounts"), Account),
            envelopes={k: _envelope(v) for k, v in (data.get("envelopes") or {}).items()},
            templates={k: _template(v) for k, v in (data.get("templates") or {}).items()},
            integrations=_map(data.get("integrations"), Integration),
            consents=list(data.get("consents") or []),
            access_tokens=_map(data.get("access_tokens"), Grant),
            refresh_tokens=_map(data.get("refresh_tokens"), Grant),
            auth_codes=_map(data.get("auth_codes"), Grant),
            bulk_lists=_map(data.get("bulk_lists"), BulkList),
            bulk_batches=_map(data.get("bulk_batches"), BulkBatch),
            view_tokens=_map(data.get("view_tokens"), ViewToken),
            config=_build(EmulatorConfig, data.get("config") or {}),
        )


def _build(kind: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: v for k, v in data.items() if k in names})


def _map(data: dict[str, Any] | None, kind: type[T]) -> dict[str, T]:
    return {k: _build(kind, v) for k, v in (data or {}).items()}


def _envelope(data: dict[str, Any]) -> Envelope:
    env = _build(Envelope, data)
    env.documents = [_build(Document, d) for d in data.get("documents", [])]
    env.recipients = [_build(Recipient, r) for r in data.get("recipients", [])]
    env.audit = [_build(AuditEvent, a) for a in data.get("audit", [])]
    return env


def _template(data: dict[str, Any]) -> Template:
    tpl = _build(Template, data)
    tpl.documents = [_build(Document, d) for d in data.get("documents", [])]
    tpl.recipients = [_build(Recipient, r) for r in data.get("recipients", [])]
    return tpl


def load_snapshot(path: Path) -> EmulatorState:
    if not path.exists():
        return EmulatorState()
    return EmulatorState.from_json(json.loads(path.read_text(encoding="utf-8")))


def write_snapshot(state: EmulatorState, path: Path) -> None:
    """Blocking: encode the state and write it to a temporary file, then rename, so a crash never leaves half a
    snapshot. Run it on a worker thread (`Snapshotter` does): the encoding is one orjson pass over the
    dataclasses, which holds the GIL from start to end, so the event loop cannot change the state mid-pass, and
    the file I/O happens off the loop."""
    data = orjson.dumps(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Snapshotter:
    """Coalesces bursts of changes into one write a moment later, on a worker thread, off the request path."""

    def __init__(self, state: EmulatorState, path: Path | None, delay: float = 0.5) -> None:
        self.state = state
        self.path = path
        self.delay = delay
        self._handle: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None

    def mark_dirty(self) -> None:
        if self.path is None or self._handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write()
            return
        self._handle = loop.call_later(self.delay, self._start_write, loop)

    def _start_write(self, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = None
        previous = self._writing
        self._writing = loop.create_task(self._write_after(previous), name="emulator-snapshot")

    async def _write_after(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:  # one write at a time, in order
            await asyncio.wait({previous})
        await asyncio.to_thread(self._write)

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            write_snapshot(self.state, self.path)
        except OSError:
            log.exception("emulator snapshot write failed: %s", self.path)

    async def flush(self) -> None:
        """Write now (at shutdown): cancels the pending timer and waits for any write under way."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._writing is not None:
            await asyncio.wait({self._writing})
            self._writing = None
        if self.path is not None:
            await asyncio.to_thread(self._write)
