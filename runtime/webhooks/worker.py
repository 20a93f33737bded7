"""The Connect worker: applies stored events to the mirror, in the background of every server process.

Work is shared between processes by `SELECT ... FOR UPDATE SKIP LOCKED`: a worker claims a batch of due events,
takes a transaction-scoped advisory lock per envelope (in one global order, so two workers never deadlock), and
applies each event in its own savepoint (`apply.py`), so one bad event never holds back the others. Events of
one envelope are applied oldest first; the ordering rules in `docusign_agent.envelope_rules` make the result
independent of arrival order anyway (newer state wins, terminal states are final), so shuffled and late
deliveries converge on DocuSign's state.

DocuSign is never called while the batch, its row locks or its advisory locks are held: an event that does not
say the envelope's status is set aside for a short lease, the batch commits, the worker asks DocuSign (with
the client layer's retries), and then applies the answer in a second, short transaction.

Outcomes per event: `applied` (changed the mirror, or was older than what the mirror holds), `duplicate` (the
same data as an event already applied), `unmatched` (no envelope or user of ours; re-queued when the envelope
becomes known), `failed` (cannot be applied as it is: the error is kept), or back to `pending` with a backoff
after an unexpected error, `parked` once `webhook_max_attempts` is spent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from docusign_agent.backoff import Backoff
from docusign_agent.envelope_rules import envelope_order
from docusign_agent.metrics import WEBHOOK_EVENTS, WEBHOOK_UNMATCHED
from runtime.bus import EventBus
from runtime.webhooks.apply import NeedsFetch, Outcome, Unmatched, apply_event
from runtime.webhooks.parse import EventError, ParsedEvent, parse_event, with_fetched_state
from runtime.webhooks.sql import (
    CLAIM,
    CLAIM_DEFERRED,
    DEFER,
    FINISH,
    LOCK_ENVELOPE,
    NEXT_DUE,
    REMATCH_ENVELOPE,
    REMATCH_SWEEP,
    RETRY,
)

log = logging.getLogger(__name__)

WAKE_CHANNEL = "dsa_webhook_events"
USER_STREAM_TTL_SECONDS = 7 * 24 * 3600
FETCH_LEASE_SECONDS = 60.0  # how long other workers leave an event alone while this one asks DocuSign

# (user_id, account_id, envelope_id) -> DocuSign's envelope as REST JSON, recipients and custom fields included
FetchEnvelope = Callable[[uuid.UUID, str, str], Awaitable[dict[str, Any]]]
Invalidate = Callable[[str], Awaitable[None]]


def user_stream(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}:envelopes"


@dataclass
class WorkerStats:
    batches: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class _Deferred:
    row: asyncpg.Record
    event: ParsedEvent
    user_id: uuid.UUID


class WebhookWorker:
    """One claim-apply loop. Several per process (or per machine) share the queue safely."""

    def __init__(self, pool: asyncpg.Pool, *, bus: EventBus | None = None, max_attempts: int = 5,
                 batch_size: int = 100, sweep_seconds: float = 10.0, rematch_seconds: float = 60.0,
                 retry_base_seconds: float = 2.0, invalidate: Invalidate | None = None,
                 fetch_envelope: FetchEnvelope | None = None, name: str = "worker") -> None:
        """`fetch_envelope` answers for events that do not say the envelope's status; without it such events
        are kept as `failed`. `invalidate` drops an envelope's cached reads once a change is committed."""
        self.pool = pool
        self.bus = bus
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.rematch_seconds = rematch_seconds
        self.retries = Backoff(base=retry_base_seconds, cap=300.0, jitter=0.25)
        self.invalidate = invalidate
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
        reconnect = Backoff(base=0.5, cap=30.0, jitter=0.25)
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
                delay = reconnect.delay(failures)
                failures += 1
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
        """Claim one batch and apply it; ask DocuSign about the events that need it once the batch has
        committed, and apply those; then publish. Returns the number of events processed."""
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
            outcomes, deferred = await self._apply_locked(conn, rows, parsed, can_fetch=True)
        if deferred:  # committed: no transaction, lock or pooled connection is held while DocuSign answers
            outcomes += await self._fetch_and_apply(deferred)
        self.stats.batches += 1
        for outcome in outcomes:
            self.stats.outcomes[outcome.status] += 1
            WEBHOOK_EVENTS.labels(outcome=outcome.status).inc()
        await self._publish(outcomes)
        return len(rows)

    async def _apply_locked(self, conn: asyncpg.Connection, rows: list[asyncpg.Record],
                            parsed: dict[int, ParsedEvent | EventError], *,
                            can_fetch: bool) -> tuple[list[Outcome], list[_Deferred]]:
        """Inside the caller's transaction: lock each envelope (one global order), apply its events in order."""
        groups: dict[int, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            groups[row["lock_key"]].append(row)
        outcomes: list[Outcome] = []
        deferred: list[_Deferred] = []
        for lock_key in sorted(groups):  # one global lock order: no deadlock between workers
            await conn.execute(LOCK_ENVELOPE, lock_key)
            for row in sorted(groups[lock_key], key=lambda r: _order_key(parsed[r["id"]], r["id"])):
                result = await self._process(conn, row, parsed[row["id"]], can_fetch=can_fetch)
                if isinstance(result, _Deferred):
                    deferred.append(result)
                else:
                    outcomes.append(result)
        return outcomes, deferred

    async def _process(self, conn: asyncpg.Connection, row: asyncpg.Record, parsed: ParsedEvent | EventError, *,
                       can_fetch: bool) -> Outcome | _Deferred:
        event_id = row["id"]
        if isinstance(parsed, EventError):
            return await self._fail(conn, row, parsed)
        try:
            async with conn.transaction():  # a savepoint: this event's writes only
                outcome = await apply_event(conn, event_id, parsed, can_fetch=can_fetch and self.fetch_envelope
                                            is not None)
                await conn.execute(FINISH, event_id, outcome.status, outcome.user_id, None)
                return outcome
        except NeedsFetch as need:
            await conn.execute(DEFER, event_id, FETCH_LEASE_SECONDS)
            return _Deferred(row, parsed, need.user_id)
        except Unmatched as exc:
            await conn.execute(FINISH, event_id, "unmatched", None, str(exc))
            WEBHOOK_UNMATCHED.inc()
            log.warning("webhook event %d unmatched: %s", event_id, exc)
            return Outcome(event_id, "unmatched", envelope_id=parsed.envelope_id)
        except EventError as exc:
            return await self._fail(conn, row, exc)
        except Exception as exc:
            if conn.is_closed() or isinstance(exc, asyncpg.PostgresConnectionError | OSError):
                raise  # the connection is gone: the whole batch goes back to pending untouched
            return await self._retry_later(conn, row, exc)

    async def _fail(self, conn: asyncpg.Connection, row: asyncpg.Record, error: EventError) -> Outcome:
        await conn.execute(FINISH, row["id"], "failed", None, str(error))
        log.warning("webhook event %d cannot be applied: %s", row["id"], error)
        return Outcome(row["id"], "failed", envelope_id=row["envelope_id"])

    async def _retry_later(self, conn: asyncpg.Connection, row: asyncpg.Record, exc: Exception) -> Outcome:
        attempts = row["attempts"] + 1
        status = "parked" if attempts >= self.max_attempts else "pending"
        error = f"{type(exc).__name__}: {exc}"
        await conn.execute(RETRY, row["id"], status, error, self.retries.delay(attempts - 1))
        log.warning("webhook event %d attempt %d failed (%s): %s", row["id"], attempts, status, error)
        return Outcome(row["id"], status, envelope_id=row["envelope_id"])

    async def _fetch_and_apply(self, deferred: list[_Deferred]) -> list[Outcome]:
        """Ask DocuSign about each deferred event (no lock held), then apply the answers in one transaction."""
        assert self.fetch_envelope is not None
        answers: dict[int, ParsedEvent | EventError | Exception] = {}
        for item in deferred:
            ev = item.event
            try:
                envelope = await self.fetch_envelope(item.user_id, ev.account_id, ev.envelope_id)
                answers[item.row["id"]] = with_fetched_state(ev, envelope)
            except EventError as exc:
                answers[item.row["id"]] = exc
            except Exception as exc:  # noqa: BLE001 - DocuSign down or refusing: the event is retried later
                answers[item.row["id"]] = exc
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(CLAIM_DEFERRED, list(answers))  # still ours unless another worker took over
            fetched: dict[int, ParsedEvent | EventError] = {}
            outcomes: list[Outcome] = []
            for row in rows:
                answer = answers[row["id"]]
                if isinstance(answer, ParsedEvent | EventError):
                    fetched[row["id"]] = answer
                else:
                    outcomes.append(await self._retry_later(conn, row, answer))
            retried = {o.event_id for o in outcomes}
            applied, _ = await self._apply_locked(conn, [r for r in rows if r["id"] not in retried], fetched,
                                                  can_fetch=False)
        return outcomes + applied

    # --- after commit -------------------------------------------------------------------------------------
    async def _publish(self, outcomes: list[Outcome]) -> None:
        touched: set[str] = set()
        streams: set[str] = set()
        for outcome in outcomes:
            if not outcome.messages or outcome.user_id is None:
                continue
            if outcome.envelope_id:
                touched.add(outcome.envelope_id)
            if self.bus is None:
                continue
            stream = user_stream(outcome.user_id)
            for name, data in outcome.messages:
                try:
                    await self.bus.publish(stream, name, orjson.dumps(data))
                    streams.add(stream)
                except Exception as exc:  # noqa: BLE001 - the mirror is committed; a client can re-read it
                    log.warning("webhook worker: publishing to %s failed: %s", stream, exc)
        if self.invalidate is not None:
            for envelope_id in touched:
                try:
                    await self.invalidate(envelope_id)
                except Exception as exc:  # noqa: BLE001 - the cache entry expires on its own within its TTL
                    log.warning("webhook worker: cache invalidation of %s failed: %s", envelope_id, exc)
        if self.bus is not None:
            for stream in streams:
                try:
                    await self.bus.expire(stream, USER_STREAM_TTL_SECONDS)
                except Exception as exc:  # noqa: BLE001
                    log.debug("webhook worker: expire %s failed: %s", stream, exc)


def _order_key(parsed: ParsedEvent | EventError, event_id: int) -> tuple[Any, ...]:
    if isinstance(parsed, EventError):
        return (envelope_order(None, None, None), event_id)
    return (envelope_order(parsed.status, parsed.status_changed_at, parsed.generated_at), event_id)
