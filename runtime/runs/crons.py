"""Crons as the HTTP layer needs them: create (on a thread or not), read, patch, delete, search, count, and the
runs a cron made. The firing itself is `runtime/runs/cron_scheduler.py`'s.

A cron keeps the run request it makes (`payload`), validated as a run request when it is created and every time
it is patched, so a cron never holds a run that would be refused when it fires. Every query takes a
`user_session`: another user's cron is simply not found, and cannot be read, changed or deleted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from db import crons
from db.models import Cron, Run
from db.session import Database
from docusign_agent.schedules import next_fire
from runtime.runs import assistants, store
from runtime.runs.cron_schemas import PAYLOAD_FIELDS, CronCount, CronCreate, CronPatch, CronSearch
from runtime.runs.errors import InvalidRequest, NotFound
from runtime.runs.graphs import GraphRegistry
from runtime.runs.schemas import RunCreate

CRON_ID_KEY = "cron_id"  # in the metadata of every run a cron makes: how a cron's runs are found


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def cron_json(row: Cron) -> dict[str, Any]:
    return {
        "cron_id": str(row.cron_id),
        "assistant_id": row.assistant_id,
        "thread_id": str(row.thread_id) if row.thread_id else None,
        "on_run_completed": row.on_run_completed,
        "end_time": _iso(row.end_time),
        "schedule": row.schedule,
        "timezone": row.timezone,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "payload": row.payload or {},
        "user_id": str(row.user_id),
        "next_run_date": _iso(row.next_run_date),
        "metadata": row.metadata_ or {},
        "enabled": row.enabled,
    }


def payload_of(run: RunCreate) -> dict[str, Any]:
    return run.model_dump(include=set(PAYLOAD_FIELDS), exclude_none=True, mode="json")


def run_request(row: Cron) -> RunCreate:
    """The run a cron makes when it fires: its payload, its metadata with its id, and for a cron without a
    thread what becomes of the run's thread."""
    body = dict(row.payload or {})
    body["metadata"] = {**(row.metadata_ or {}), CRON_ID_KEY: str(row.cron_id)}
    if row.thread_id is None:
        body["on_completion"] = row.on_run_completed or "delete"
    return RunCreate.model_validate(body)


def run_id_for(cron_id: uuid.UUID, fire_time: dt.datetime) -> uuid.UUID:
    """One id per cron and time of its schedule: firing the same time twice is refused by the runs' key."""
    return uuid.uuid5(cron_id, fire_time.astimezone(dt.UTC).isoformat())


def _checked_run(body: dict[str, Any]) -> RunCreate:
    try:
        return RunCreate.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidRequest(f"{field}: {first.get('msg', 'invalid value')}", field=field) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CronService:
    def __init__(self, database: Database, graphs: GraphRegistry, *, on_change: Any = None) -> None:
        """`on_change()` is called after a cron is created or changed (the scheduler re-reads when to wake)."""
        self.db = database
        self.graphs = graphs
        self._on_change = on_change

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def assistant_key(self, assistant_id: str) -> str:
        """How a cron names its assistant: a graph's default by the graph id (its UUID alias too)."""
        return self.graphs.resolve(assistant_id) or assistant_id

    async def create(self, user_id: uuid.UUID, thread_id: uuid.UUID | None, body: CronCreate) -> dict[str, Any]:
        async with self.db.user_session(user_id) as session:
            resolved = await assistants.resolve(session, self.graphs, body.assistant_id)
            if thread_id is not None:
                await store.require_thread(session, thread_id)
            row = await crons.insert(
                session, user_id=user_id, assistant_id=self.assistant_key(resolved.assistant_id),
                thread_id=thread_id, schedule=body.schedule, timezone=body.timezone, end_time=body.end_time,
                enabled=body.enabled, on_run_completed=None if thread_id else (body.on_run_completed or "delete"),
                payload=payload_of(body), metadata_=body.metadata or {},
                next_run_date=next_fire(body.schedule, body.timezone, _now()))
            result = cron_json(row)
        self._changed()
        return result

    async def _require(self, session: Any, cron_id: uuid.UUID, *, lock: bool = False) -> Cron:
        row = await crons.get(session, cron_id, lock=lock)
        if row is None:  # another user's cron looks exactly like a missing one
            raise NotFound(f"cron {cron_id} not found", field="cron_id")
        return row

    async def get(self, user_id: uuid.UUID, cron_id: uuid.UUID) -> dict[str, Any]:
        async with self.db.user_session(user_id) as session:
            return cron_json(await self._require(session, cron_id))

    async def patch(self, user_id: uuid.UUID, cron_id: uuid.UUID, body: CronPatch) -> dict[str, Any]:
        sent = body.model_fields_set
        if not sent:
            raise InvalidRequest("send at least one field to change", field="body")
        async with self.db.user_session(user_id) as session:
            row = await self._require(session, cron_id, lock=True)
            if "on_run_completed" in sent and body.on_run_completed is not None:
                if row.thread_id is not None:
                    raise InvalidRequest("on_run_completed applies only to crons without a thread",
                                         field="on_run_completed")
                row.on_run_completed = body.on_run_completed
            reschedule = False
            if body.schedule is not None:
                row.schedule, reschedule = body.schedule, True
            if "timezone" in sent and body.timezone != row.timezone:
                row.timezone, reschedule = body.timezone, True
            if "end_time" in sent:
                row.end_time = body.end_time
            if body.enabled is not None:
                reschedule = reschedule or (body.enabled and not row.enabled)  # no burst of missed times
                row.enabled = body.enabled
            if body.metadata is not None:
                row.metadata_ = {**(row.metadata_ or {}), **body.metadata}
            changes = body.run_changes()
            if changes or body.metadata is not None:
                merged = {**(row.payload or {}), **changes, "assistant_id": (row.payload or {}).get(
                    "assistant_id", row.assistant_id)}
                if row.metadata_:
                    merged["metadata"] = row.metadata_
                row.payload = payload_of(_checked_run(merged))
            if reschedule:
                row.next_run_date = next_fire(row.schedule, row.timezone, _now())
            row.updated_at = _now()
            await session.flush()
            await session.refresh(row)
            result = cron_json(row)
        self._changed()
        return result

    async def delete(self, user_id: uuid.UUID, cron_id: uuid.UUID) -> None:
        async with self.db.user_session(user_id) as session:
            if not await crons.remove(session, cron_id):
                raise NotFound(f"cron {cron_id} not found", field="cron_id")

    def _assistants(self, assistant_id: str | None) -> list[str] | None:
        return [self.assistant_key(assistant_id)] if assistant_id else None

    async def search(self, user_id: uuid.UUID, body: CronSearch, thread_id: uuid.UUID | None) -> list[dict[str, Any]]:
        async with self.db.user_session(user_id) as session:
            rows = await crons.search(session, assistant_ids=self._assistants(body.assistant_id),
                                      thread_id=thread_id, enabled=body.enabled, metadata=body.metadata,
                                      limit=body.limit, offset=body.offset, sort_by=body.sort_by,
                                      sort_order=body.sort_order)
        return [store.select_fields(cron_json(r), body.select) for r in rows]

    async def count(self, user_id: uuid.UUID, body: CronCount, thread_id: uuid.UUID | None) -> int:
        async with self.db.user_session(user_id) as session:
            return await crons.count(session, assistant_ids=self._assistants(body.assistant_id),
                                     thread_id=thread_id, metadata=body.metadata)

    async def runs(self, user_id: uuid.UUID, cron_id: uuid.UUID, *, limit: int, offset: int) -> list[dict[str, Any]]:
        """The runs the cron made that still exist, newest first (a cron without a thread whose runs' threads
        are deleted when they finish, the default, leaves none)."""
        async with self.db.user_session(user_id) as session:
            await self._require(session, cron_id)
            stmt = (select(Run).where(Run.metadata_.contains({CRON_ID_KEY: str(cron_id)}))
                    .order_by(Run.created_at.desc()).limit(limit).offset(offset))
            return [store.run_json(r) for r in (await session.execute(stmt)).scalars()]
