"""The Connect worker: applies stored events to the mirror, in the background of every server process.

Work is shared between processes by `SELECT ... FOR UPDATE SKIP LOCKED`: a worker claims a batch of due events,
takes a transaction-scoped advisory lock per envelope (in one global order, so two workers never deadlock), and
applies each event in its own savepoint, so one bad event never holds back the others. Events of one envelope
are applied oldest first; the ordering rules in `db.mirror` make the result independent of arrival order
anyway (newer state wins, terminal states are final), so shuffled and late deliveries converge on DocuSign's
state.

Outcomes per event: `applied` (changed the mirror, or was older than what the mirror holds), `duplicate` (the
same data as an event already applied), `unmatched` (no envelope or user of ours; re-queued when the envelope
becomes known), `failed` (cannot be applied as it is: the error is kept), or back to `pending` with a backoff
after an unexpected error, `parked` once `webhook_max_attempts` is spent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from prometheus_client import Counter

from runtime.webhooks.parse import EventError, ParsedEvent, RecipientState, parse_event
from runtime.webhooks.sql import (
    CLAIM,
    LOCK_ENVELOPE,
    NEXT_DUE,
    RECIPIENTS_OF,
    USER_BY_BULK,
    USER_BY_REQUEST,
    ENVELOPE_FOR_UPDATE,
    USER_BY_DOCUSIGN,
    SAME_DATA_APPLIED,
    INSERT_ENVELOPE,
    UPDATE_ENVELOPE,
    UPSERT_RECIPIENT,
    BULK_ROWS,
    BULK_COUNTERS,
    AUDIT,
    FINISH,
    RETRY,
    REMATCH_ENVELOPE,
    REMATCH_SWEEP,
)
from db.mirror import (
    envelope_may_change,
    envelope_order,
    recipient_may_change,
)

log = logging.getLogger(__name__)

WAKE_CHANNEL = "dsa_webhook_events"
CACHE_STREAM = "cache:envelopes"

EVENTS_PROCESSED = Counter("dsa_webhook_events_processed_total", "Connect events processed by the worker, by outcome",
                           ["outcome"])
UNMATCHED = Counter("dsa_webhook_events_unmatched_total", "Connect events naming an envelope or user we do not know")

BULK_STATUS = {"sent": "sent", "delivered": "delivered", "completed": "completed", "declined": "declined",
               "voided": "voided"}


def user_stream(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}:envelopes"


class Unmatched(Exception):
    pass


@dataclass
class Outcome:
    """What one event did, published on the bus after the batch commits."""

    event_id: int
    status: str
    user_id: uuid.UUID | None = None
    envelope_id: str | None = None
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (bus event name, data)


@dataclass
class WorkerStats:
    batches: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    event_ids: list[int] = field(default_factory=list)  # every event this worker finished (tests)


def _backoff(attempts: int, base: float) -> float:
    return min(300.0, base * (2 ** max(0, attempts - 1))) * (0.75 + random.random() / 2)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class WebhookWorker:
    """One claim-apply loop. Several per process (or per machine) share the queue safely."""

    def __init__(self, pool: asyncpg.Pool, *, bus: Any = None, max_attempts: int = 5, batch_size: int = 100,
                 sweep_seconds: float = 10.0, rematch_seconds: float = 60.0, retry_base_seconds: float = 2.0,
                 invalidate: Callable[[str], Awaitable[None] | None] | None = None,
                 fetch_envelope: Callable[[uuid.UUID, str, str], Any] | None = None, name: str = "worker") -> None:
        """`fetch_envelope(user_id, account_id, envelope_id)` returns DocuSign's envelope JSON (with recipients),
        for events that do not say the envelope's status; without it such events are kept as `failed`."""
        self.pool = pool
        self.bus = bus
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.rematch_seconds = rematch_seconds
        self.retry_base_seconds = retry_base_seconds
        self.invalidate = invalidate if invalidate is not None else _cache_invalidator()
        self.fetch_envelope = fetch_envelope
        self.name = name
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._rematch: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_sweep = 0.0

    # --- control ------------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def rematch(self, envelope_id: str) -> None:
        """An envelope became known (the agent recorded it): retry its unmatched events now."""
        if envelope_id:
            self._rematch.add(envelope_id)
            self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"webhook-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down either way
                pass
            self._task = None

    async def drain(self) -> int:
        """Apply everything due now (tests, the admin CLI); returns how many events were processed."""
        total = 0
        while True:
            await self._rematch_pending()
            done = await self.run_once()
            total += done
            if done == 0:
                return total

    # --- the loop -----------------------------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping:
            try:
                self._wake.clear()
                await self._rematch_pending()
                if loop.time() - self._last_sweep >= self.rematch_seconds:
                    await self.sweep_unmatched()
                    self._last_sweep = loop.time()
                done = await self.run_once()
                failures = 0
                if done >= self.batch_size:
                    continue
                timeout = self.sweep_seconds
                if done == 0:
                    async with self.pool.acquire() as conn:
                        due = await conn.fetchval(NEXT_DUE)
                    if due is not None:
                        timeout = max(0.01, min(timeout, float(due)))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be down; keep trying, slower each time
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("webhook worker %s: %s: %s (retrying in %.1fs)", self.name, type(exc).__name__, exc, delay)
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass

    async def _rematch_pending(self) -> None:
        if not self._rematch:
            return
        ids, self._rematch = list(self._rematch), set()
        async with self.pool.acquire() as conn:
            for envelope_id in ids:
                await conn.execute(REMATCH_ENVELOPE, envelope_id)

    async def sweep_unmatched(self) -> int:
        """Slow safety net: re-queue unmatched events whose envelope or DocuSign user is now known."""
        async with self.pool.acquire() as conn:
            result = await conn.execute(REMATCH_SWEEP)
        count = int(result.split()[-1])
        if count:
            log.info("webhook worker %s: %d unmatched event(s) re-queued", self.name, count)
        return count

    async def run_once(self) -> int:
        """Claim one batch, apply it in one transaction, then publish. Returns the number of events processed."""
        outcomes: list[Outcome] = []
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(CLAIM, self.batch_size)
            if not rows:
                return 0
            parsed: dict[int, ParsedEvent | EventError] = {}
            for row in rows:
                try:
                    parsed[row["id"]] = parse_event(row["raw_body"])
                except EventError as exc:
                    parsed[row["id"]] = exc
            groups: dict[int, list[asyncpg.Record]] = defaultdict(list)
            for row in rows:
                groups[row["lock_key"]].append(row)
            for lock_key in sorted(groups):  # one global lock order: no deadlock between workers
                await conn.execute(LOCK_ENVELOPE, lock_key)
                group = sorted(groups[lock_key], key=lambda r: _order_key(parsed[r["id"]], r["id"]))
                for row in group:
                    outcomes.append(await self._process(conn, row, parsed[row["id"]]))
        self.stats.batches += 1
        for outcome in outcomes:
            self.stats.outcomes[outcome.status] += 1
            self.stats.event_ids.append(outcome.event_id)
            EVENTS_PROCESSED.labels(outcome=outcome.status).inc()
        await self._publish(outcomes)
        return len(rows)

    async def _process(self, conn: asyncpg.Connection, row: asyncpg.Record,
                       parsed: ParsedEvent | EventError) -> Outcome:
        event_id = row["id"]
        if isinstance(parsed, EventError):
            await conn.execute(FINISH, event_id, "failed", None, str(parsed))
            log.warning("webhook event %d cannot be applied: %s", event_id, parsed)
            return Outcome(event_id, "failed", envelope_id=row["envelope_id"])
        try:
            async with conn.transaction():  # a savepoint: this event's writes only
                outcome = await self._apply(conn, event_id, parsed)
                await conn.execute(FINISH, event_id, outcome.status, outcome.user_id, None)
                return outcome
        except Unmatched as exc:
            await conn.execute(FINISH, event_id, "unmatched", None, str(exc))
            UNMATCHED.inc()
            log.warning("webhook event %d unmatched: %s", event_id, exc)
            return Outcome(event_id, "unmatched", envelope_id=parsed.envelope_id)
        except EventError as exc:
            await conn.execute(FINISH, event_id, "failed", None, str(exc))
            log.warning("webhook event %d cannot be applied: %s", event_id, exc)
            return Outcome(event_id, "failed", envelope_id=parsed.envelope_id)
        except Exception as exc:
            if conn.is_closed() or isinstance(exc, asyncpg.PostgresConnectionError | OSError):
                raise  # the connection is gone: the whole batch goes back to pending untouched
            attempts = row["attempts"] + 1
            status = "parked" if attempts >= self.max_attempts else "pending"
            error = f"{type(exc).__name__}: {exc}"
            await conn.execute(RETRY, event_id, status, error, _backoff(attempts, self.retry_base_seconds))
            log.warning("webhook event %d attempt %d failed (%s): %s", event_id, attempts, status, error)
            return Outcome(event_id, status, envelope_id=parsed.envelope_id)

    # --- applying one event -------------------------------------------------------------------------------
    async def _owner(self, conn: asyncpg.Connection, ev: ParsedEvent, existing: asyncpg.Record | None) -> uuid.UUID:
        if existing is not None:
            return existing["user_id"]
        user = await conn.fetchval(USER_BY_BULK, ev.envelope_id)
        if user is None and ev.request_id:
            user = await conn.fetchval(USER_BY_REQUEST, ev.request_id)
        if user is None and ev.docusign_user_id:
            found = await conn.fetch(USER_BY_DOCUSIGN, ev.docusign_user_id, ev.account_id or "")
            if len(found) == 1:
                user = found[0]["id"]
            elif len(found) > 1:
                raise Unmatched(f"DocuSign user {ev.docusign_user_id} maps to several profiles")
        if user is None:
            raise Unmatched(f"envelope {ev.envelope_id} and DocuSign user {ev.docusign_user_id or '(none)'} "
                            "are not known to this server")
        return user

    async def _apply(self, conn: asyncpg.Connection, event_id: int, ev: ParsedEvent) -> Outcome:
        existing = await conn.fetchrow(ENVELOPE_FOR_UPDATE, ev.envelope_id)
        user_id = await self._owner(conn, ev, existing)
        if ev.status is None and self.fetch_envelope is not None:
            ev = await self._fetched(ev, user_id)
        if ev.status is None and not ev.recipients:
            raise EventError(f"event {ev.event or '(unnamed)'} carries no envelope status and no recipient state, "
                             "and no DocuSign client is configured to fetch the envelope (enable includeData "
                             "recipients in the Connect configuration)")
        new_key = envelope_order(ev.status, ev.status_changed_at, ev.generated_at)
        envelope_pk: uuid.UUID
        previous: str | None = None
        newer = False
        if existing is None:
            if ev.status is None:
                raise EventError(f"envelope {ev.envelope_id} is not in the mirror yet and event {ev.event} "
                                 "does not say its status")
            envelope_pk = await conn.fetchval(
                INSERT_ENVELOPE, user_id, ev.envelope_id, ev.account_id or "", ev.status, ev.email_subject,
                ev.sender_email, ev.request_id, ev.sent_at, ev.delivered_at, ev.completed_at, ev.declined_at,
                ev.voided_at, ev.voided_reason, ev.status_changed_at, ev.generated_at)
            if envelope_pk is None:  # recorded by the agent meanwhile: go the update way
                existing = await conn.fetchrow(ENVELOPE_FOR_UPDATE, ev.envelope_id)
                assert existing is not None
            else:
                newer = True
        if existing is not None:
            envelope_pk = existing["id"]
            previous = existing["status"]
            current_key = envelope_order(existing["status"], existing["status_changed_at"], existing["last_event_at"])
            if ev.status is not None and envelope_may_change(previous, current_key, ev.status, new_key):
                if ev.status == previous and new_key[0] == current_key[0] and await conn.fetchval(
                        SAME_DATA_APPLIED, ev.envelope_id, event_id, ev.event):
                    # The same data as an event already applied (a redelivery with a new generatedDateTime).
                    return Outcome(event_id, "duplicate", user_id, ev.envelope_id)
                newer = True
                await conn.execute(
                    UPDATE_ENVELOPE, envelope_pk, ev.status, ev.account_id, ev.email_subject, ev.sender_email,
                    ev.request_id, ev.sent_at, ev.delivered_at, ev.completed_at, ev.declined_at, ev.voided_at,
                    ev.voided_reason, ev.status_changed_at or existing["status_changed_at"], ev.generated_at)
            elif ev.status is not None and await conn.fetchval(SAME_DATA_APPLIED, ev.envelope_id, event_id, ev.event):
                return Outcome(event_id, "duplicate", user_id, ev.envelope_id)

        changed_recipients = await self._apply_recipients(conn, envelope_pk, user_id, ev, newer)
        status_now = ev.status if newer else previous
        status_changed = newer and ev.status != previous
        outcome = Outcome(event_id, "applied", user_id, ev.envelope_id)
        if not status_changed and not changed_recipients:
            return outcome  # older than what the mirror holds, or no visible change
        bulk = await self._apply_bulk(conn, ev.envelope_id, status_now) if status_changed and status_now else []
        change = {
            "envelope_id": ev.envelope_id, "event": ev.event, "webhook_event_id": event_id,
            "previous_status": previous, "status": status_now,
            "status_changed_at": _iso(ev.status_changed_at if newer
                                      else existing["status_changed_at"] if existing is not None else None),
            "generated_at": _iso(ev.generated_at),
            "recipients": [{"recipient_id": r.recipient_id, "status": r.status, "previous_status": before,
                            "name": r.name, "email": r.email, "routing_order": r.routing_order}
                           for r, before in changed_recipients],
        }
        await conn.execute(AUDIT, user_id, f"webhook:{ev.event or 'event'}"[:100], ev.envelope_id,
                           orjson.dumps({"webhook_event_id": event_id, "event": ev.event,
                                         "generated_at": _iso(ev.generated_at)}).decode(),
                           orjson.dumps({"previous_status": previous, "status": status_now,
                                         "recipients": change["recipients"]}).decode())
        outcome.messages.append(("envelope", change))
        for op in bulk:
            outcome.messages.append(("bulk", op))
        return outcome

    async def _fetched(self, ev: ParsedEvent, user_id: uuid.UUID) -> ParsedEvent:
        """Ask DocuSign (through the client layer's hook) for the envelope an ambiguous event names."""
        assert self.fetch_envelope is not None
        summary = self.fetch_envelope(user_id, ev.account_id, ev.envelope_id)
        if inspect.isawaitable(summary):
            summary = await summary
        if not isinstance(summary, dict) or not summary.get("status"):
            raise EventError(f"DocuSign returned no status for envelope {ev.envelope_id}")
        body = orjson.dumps({"event": ev.event, "generatedDateTime": _iso(ev.generated_at),
                             "data": {"accountId": ev.account_id, "userId": ev.docusign_user_id,
                                      "envelopeId": ev.envelope_id, "recipientId": ev.recipient_id or "",
                                      "envelopeSummary": summary}})
        return parse_event(body)

    async def _apply_recipients(self, conn: asyncpg.Connection, envelope_pk: uuid.UUID, user_id: uuid.UUID,
                                ev: ParsedEvent, envelope_newer: bool) -> list[tuple[RecipientState, str | None]]:
        if not ev.recipients:
            return []
        current = {r["recipient_id"]: r for r in await conn.fetch(RECIPIENTS_OF, envelope_pk)}
        rows, changed = [], []
        for r in ev.recipients:
            stored = current.get(r.recipient_id)
            before = stored["status"] if stored else None
            may = recipient_may_change(before, stored["status_changed_at"] if stored else None, r.status, r.changed_at)
            if stored is not None and not may and not envelope_newer:
                continue
            rows.append((envelope_pk, user_id, r.recipient_id, r.recipient_type, r.name, r.email, r.routing_order,
                         r.status, r.client_user_id, r.sent_at, r.delivered_at, r.signed_at, r.declined_at,
                         r.declined_reason, r.changed_at, may, envelope_newer))
            if may and r.status != before:
                changed.append((r, before))
        if rows:
            await conn.executemany(UPSERT_RECIPIENT, rows)
        return changed

    async def _apply_bulk(self, conn: asyncpg.Connection, envelope_id: str, status: str) -> list[dict[str, Any]]:
        bulk_status = BULK_STATUS.get(status)
        if bulk_status is None:
            return []
        operations = {r["operation_id"] for r in await conn.fetch(BULK_ROWS, envelope_id, bulk_status)}
        out = []
        for operation_id in sorted(operations):
            op = await conn.fetchrow(BULK_COUNTERS, operation_id)
            if op is not None:
                out.append({k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in dict(op).items()})
        return out

    # --- after commit -------------------------------------------------------------------------------------
    async def _publish(self, outcomes: list[Outcome]) -> None:
        touched: set[str] = set()
        streams: set[str] = set()
        for outcome in outcomes:
            if not outcome.messages or outcome.user_id is None:
                continue
            stream = user_stream(outcome.user_id)
            for name, data in outcome.messages:
                if outcome.envelope_id:
                    touched.add(outcome.envelope_id)
                if self.bus is None:
                    continue
                try:
                    await self.bus.publish(stream, name, orjson.dumps(data))
                    streams.add(stream)
                except Exception as exc:  # noqa: BLE001 - the mirror is committed; a client can re-read it
                    log.warning("webhook worker: publishing to %s failed: %s", stream, exc)
        for envelope_id in touched:
            await self._invalidate(envelope_id)
        if self.bus is not None:
            for stream in streams:
                try:
                    await self.bus.expire(stream, 7 * 24 * 3600)
                except Exception as exc:  # noqa: BLE001
                    log.debug("webhook worker: expire %s failed: %s", stream, exc)

    async def _invalidate(self, envelope_id: str) -> None:
        if self.invalidate is not None:
            try:
                result = self.invalidate(envelope_id)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001
                log.warning("webhook worker: cache invalidation of %s failed: %s", envelope_id, exc)
        if self.bus is not None:
            try:
                await self.bus.publish(CACHE_STREAM, "invalidate", envelope_id.encode())
            except Exception as exc:  # noqa: BLE001
                log.warning("webhook worker: publishing the invalidation of %s failed: %s", envelope_id, exc)


def _order_key(parsed: ParsedEvent | EventError, event_id: int) -> tuple[Any, ...]:
    if isinstance(parsed, EventError):
        return (envelope_order(None, None, None), event_id)
    return (envelope_order(parsed.status, parsed.status_changed_at, parsed.generated_at), event_id)


def _cache_invalidator() -> Callable[[str], Awaitable[None] | None] | None:
    """The client layer's envelope read cache (`docusign_client`), when this process has one installed."""

    async def invalidate(envelope_id: str) -> None:
        try:
            from docusign_client.clients import get_clients
        except ImportError:
            return
        try:
            clients = get_clients()
        except RuntimeError:
            return  # not installed in this process (a bare worker): the bus stream `cache:envelopes` carries it
        await clients.invalidate(envelope_id)

    return invalidate


async def fetch_from_docusign(user_id: uuid.UUID, account_id: str, envelope_id: str) -> dict[str, Any]:
    """DocuSign's envelope (recipients and custom fields included) through the user's client, as Connect JSON."""
    try:
        from docusign_client.errors import NotConnected
        from docusign_client.clients import get_clients

        clients = get_clients()
    except (ImportError, RuntimeError) as exc:
        raise EventError(f"the event does not say the envelope's status and no DocuSign client is available "
                         f"to fetch it ({exc})") from None
    try:
        client = await clients.for_user(user_id)
    except NotConnected as exc:
        raise EventError(f"the event does not say the envelope's status and its owner has no DocuSign "
                         f"connection to fetch it with: {exc}") from None
    from docusign_esign import ApiClient

    envelope = await client.get_envelope(envelope_id, include="recipients,custom_fields")
    return ApiClient().sanitize_for_serialization(envelope)  # type: ignore[no-any-return]
