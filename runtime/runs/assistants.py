"""Assistants: the graphs' defaults (the same for everyone, never changed) and the ones each user makes.

A user's assistant is a graph with its own config and context (for example a "formal, always CC legal" agent):
every version is kept, patching adds one, `set_latest` points the assistant at an older one. Runs name an
assistant; `resolve` says which graph runs and with what, and `merge_config` lays the run's own config over the
assistant's. Every query takes a `user_session`, so another user's assistant is simply not found.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Assistant, AssistantVersion
from runtime.runs.errors import InvalidRequest, NotFound
from runtime.runs.graphs import GraphRegistry

CONTENT = ("graph_id", "name", "description", "config", "context", "metadata_")
SORTABLE = ("assistant_id", "graph_id", "name", "created_at", "updated_at")


@dataclass(frozen=True)
class ResolvedAssistant:
    assistant_id: str
    graph_id: str
    config: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def assistant_json(row: Assistant) -> dict[str, Any]:
    return {"assistant_id": str(row.assistant_id), "graph_id": row.graph_id, "config": row.config or {},
            "context": row.context or {}, "metadata": row.metadata_ or {}, "version": row.version,
            "name": row.name, "description": row.description, "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at)}


def version_json(row: AssistantVersion) -> dict[str, Any]:
    return {"assistant_id": str(row.assistant_id), "graph_id": row.graph_id, "config": row.config or {},
            "context": row.context or {}, "metadata": row.metadata_ or {}, "version": row.version,
            "name": row.name, "description": row.description, "created_at": _iso(row.created_at)}


def synced(config: dict[str, Any] | None, context: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Like langgraph-api: `config.configurable` and `context` are one thing sent two ways, kept equal."""
    config = dict(config or {})
    if config.get("configurable") and context:
        raise InvalidRequest("send either config.configurable or context, not both", field="context")
    if config.get("configurable"):
        return config, dict(config["configurable"])
    if context:
        config["configurable"] = dict(context)
    return config, dict(context or {})


def merge_config(assistant: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The run's config laid over its assistant's: `configurable` and `metadata` merged key by key, `tags`
    joined, anything else the run's when it sent one."""
    merged = {**assistant, **run}
    for key in ("configurable", "metadata"):
        if assistant.get(key) or run.get(key):
            merged[key] = {**(assistant.get(key) or {}), **(run.get(key) or {})}
    if assistant.get("tags") or run.get("tags"):
        merged["tags"] = list(dict.fromkeys([*(assistant.get("tags") or []), *(run.get("tags") or [])]))
    return merged


def parse_id(assistant_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(assistant_id)
    except ValueError:
        return None


async def get(session: AsyncSession, assistant_id: uuid.UUID, *, lock: bool = False) -> Assistant | None:
    stmt = select(Assistant).where(Assistant.assistant_id == assistant_id)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()


async def require(session: AsyncSession, assistant_id: str, *, lock: bool = False) -> Assistant:
    parsed = parse_id(assistant_id)
    row = await get(session, parsed, lock=lock) if parsed else None
    if row is None:
        raise NotFound(f"assistant {assistant_id!r} not found", field="assistant_id")
    return row


async def resolve(session: AsyncSession, graphs: GraphRegistry, assistant_id: str) -> ResolvedAssistant:
    graph_id = graphs.resolve(assistant_id)
    if graph_id is not None:
        return ResolvedAssistant(assistant_id=assistant_id, graph_id=graph_id)
    row = await require(session, assistant_id)
    if graphs.resolve(row.graph_id) is None:
        raise NotFound(f"assistant {assistant_id}'s graph {row.graph_id!r} is not served here", field="assistant_id")
    return ResolvedAssistant(assistant_id=str(row.assistant_id), graph_id=row.graph_id, config=row.config or {},
                             context=row.context or {})


async def create(session: AsyncSession, user_id: uuid.UUID, *, assistant_id: uuid.UUID | None, graph_id: str,
                 name: str, description: str | None, config: dict[str, Any], context: dict[str, Any],
                 metadata: dict[str, Any]) -> Assistant | None:
    """None if the id is taken (by this user or, invisibly, by another)."""
    content = {"graph_id": graph_id, "name": name, "description": description, "config": config,
               "context": context, "metadata_": metadata}
    values: dict[Any, Any] = {Assistant.user_id: user_id, **{getattr(Assistant, k): v for k, v in content.items()}}
    if assistant_id is not None:
        values[Assistant.assistant_id] = assistant_id
    stmt = insert(Assistant).values(values).on_conflict_do_nothing(index_elements=["assistant_id"]).returning(Assistant)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is not None:
        session.add(AssistantVersion(assistant_id=row.assistant_id, version=1, user_id=user_id, **content))
        await session.flush()
    return row


async def patch(session: AsyncSession, row: Assistant, changes: dict[str, Any]) -> Assistant:
    """A new version with `changes` (metadata merged into the current one), made the current one."""
    latest = (await session.execute(select(func.max(AssistantVersion.version))
                                    .where(AssistantVersion.assistant_id == row.assistant_id))).scalar_one()
    content = {k: getattr(row, k) for k in CONTENT}
    for key, value in changes.items():
        content[key] = {**(row.metadata_ or {}), **value} if key == "metadata_" else value
    version = int(latest or 0) + 1
    session.add(AssistantVersion(assistant_id=row.assistant_id, version=version, user_id=row.user_id, **content))
    await session.execute(update(Assistant).where(Assistant.assistant_id == row.assistant_id)
                          .values(**content, version=version, updated_at=func.now()))
    await session.flush()
    await session.refresh(row)
    return row


async def set_latest(session: AsyncSession, row: Assistant, version: int) -> Assistant:
    chosen = (await session.execute(select(AssistantVersion).where(
        AssistantVersion.assistant_id == row.assistant_id, AssistantVersion.version == version))).scalar_one_or_none()
    if chosen is None:
        raise NotFound(f"assistant {row.assistant_id} has no version {version}", field="version")
    await session.execute(update(Assistant).where(Assistant.assistant_id == row.assistant_id).values(
        **{k: getattr(chosen, k) for k in CONTENT}, version=version, updated_at=func.now()))
    await session.flush()
    await session.refresh(row)
    return row


async def delete_assistant(session: AsyncSession, row: Assistant) -> None:
    await session.execute(delete(Assistant).where(Assistant.assistant_id == row.assistant_id))


async def versions(session: AsyncSession, row: Assistant, *, metadata: dict[str, Any] | None, limit: int,
                   offset: int) -> list[AssistantVersion]:
    stmt = select(AssistantVersion).where(AssistantVersion.assistant_id == row.assistant_id)
    if metadata:
        stmt = stmt.where(AssistantVersion.metadata_.contains(metadata))
    stmt = stmt.order_by(AssistantVersion.version.desc()).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


def _filters(stmt: Select[Any], *, graph_id: str | None, name: str | None,
             metadata: dict[str, Any] | None) -> Select[Any]:
    if graph_id:
        stmt = stmt.where(Assistant.graph_id == graph_id)
    if name:
        stmt = stmt.where(Assistant.name.icontains(name, autoescape=True))
    if metadata:
        stmt = stmt.where(Assistant.metadata_.contains(metadata))
    return stmt


def _matches(body: dict[str, Any], *, graph_id: str | None, name: str | None, metadata: dict[str, Any] | None) -> bool:
    return ((not graph_id or body["graph_id"] == graph_id) and (not name or name.lower() in body["name"].lower())
            and all(body["metadata"].get(k) == v for k, v in (metadata or {}).items()))


async def search(session: AsyncSession, graphs: GraphRegistry, *, graph_id: str | None, name: str | None,
                 metadata: dict[str, Any] | None, limit: int, offset: int, sort_by: str | None,
                 sort_order: str | None) -> list[dict[str, Any]]:
    """The graphs' defaults and the user's own, as one list sorted as asked (newest first by default)."""
    key = sort_by or "created_at"
    descending = sort_order != "asc"
    column = getattr(Assistant, key)
    stmt = _filters(select(Assistant), graph_id=graph_id, name=name, metadata=metadata)
    stmt = stmt.order_by(column.desc() if descending else column.asc()).limit(offset + limit)
    found = [assistant_json(r) for r in (await session.execute(stmt)).scalars()]
    found += [a for a in (graphs.assistant(g) for g in graphs.graph_ids)
              if _matches(a, graph_id=graph_id, name=name, metadata=metadata)]
    found.sort(key=lambda a: (a[key] is None, a[key] or ""), reverse=descending)
    return found[offset: offset + limit]


async def count(session: AsyncSession, graphs: GraphRegistry, *, graph_id: str | None, name: str | None,
                metadata: dict[str, Any] | None) -> int:
    stmt = _filters(select(func.count()).select_from(Assistant), graph_id=graph_id, name=name, metadata=metadata)
    own = int((await session.execute(stmt)).scalar_one())
    return own + sum(1 for g in graphs.graph_ids
                     if _matches(graphs.assistant(g), graph_id=graph_id, name=name, metadata=metadata))
