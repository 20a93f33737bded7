"""LangGraph's `BaseStore` over `store_items`, bound to one user: what the graph gets as `store` and what the
`/store` routes use.

Every operation runs in that user's `user_session`, so RLS decides what is visible: a namespace names the
user's own items only, and no argument can reach another user's. A batch is one transaction. Vector search is
used when the store is built with an `IndexConfig` (an embeddings model is configured): each indexed field's
vector is kept in `store_vectors` and scored with `dsa_cosine` in SQL. Without one, a `query` matches items
whose value contains every word of it, newest first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path, tokenize_path
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from db.session import Database

SEPARATOR = "."
FILTER_OPERATORS = {"$eq": "=", "$ne": "<>", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_LIVE = "(expires_at IS NULL OR expires_at > now())"


class StoreFilterError(ValueError):
    """A search filter this store cannot evaluate; the message names the field."""


def namespace_text(namespace: Sequence[str]) -> str:
    return SEPARATOR.join(namespace)


def _item_of(row: Any, score: float | None = None, *, scored: bool = False) -> Item:
    namespace = tuple(row.prefix.split(SEPARATOR))
    if scored:
        return SearchItem(namespace=namespace, key=row.key, value=row.value, created_at=row.created_at,
                          updated_at=row.updated_at, score=score)
    return Item(value=row.value, key=row.key, namespace=namespace, created_at=row.created_at,
                updated_at=row.updated_at)


class UserStore(BaseStore):
    """One user's store. Cheap to build (per run, per request): it holds a database handle and a user id."""

    supports_ttl = True

    def __init__(self, database: Database, user_id: uuid.UUID, *, index: IndexConfig | None = None,
                 ttl: TTLConfig | None = None) -> None:
        self.database = database
        self.user_id = user_id
        self.ttl_config = ttl
        self.index_config = dict(index) if index else None
        if self.index_config:
            self.embeddings = ensure_embeddings(self.index_config.get("embed"))
            fields = self.index_config.get("fields") or ["$"]
            self._index_fields = [(f, tokenize_path(f)) for f in fields]
        else:
            self.embeddings = None
            self._index_fields = []
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    # --- the sync interface, for sync nodes running on a worker thread --------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None or running is self._loop:
            raise asyncio.InvalidStateError(
                "UserStore's sync methods work only from a thread other than the event loop it was built on; "
                "use the async methods (aget, aput, asearch) in async code")
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    # --- the async interface ----------------------------------------------------------------------------

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        for op in ops:
            validate_op_namespace(op)
        vectors = await self._vectors_for(ops)
        query_vectors = await self._query_vectors(ops)
        results: list[Result] = []
        async with self.database.user_session(self.user_id) as session:
            for index, op in enumerate(ops):
                if isinstance(op, GetOp):
                    results.append(await self._get(session, op))
                elif isinstance(op, PutOp):
                    await self._put(session, op, vectors.get(index))
                    results.append(None)
                elif isinstance(op, SearchOp):
                    results.append(await self._search(session, op, query_vectors.get(index)))
                elif isinstance(op, ListNamespacesOp):
                    results.append(await self._namespaces(session, op))
                else:
                    raise TypeError(f"unknown store operation {type(op).__name__}")
        return results

    # --- operations -------------------------------------------------------------------------------------

    async def _get(self, session: AsyncSession, op: GetOp) -> Item | None:
        params = {"p": namespace_text(op.namespace), "k": op.key}
        if op.refresh_ttl:
            row = (await session.execute(text(
                f"UPDATE store_items SET expires_at = CASE WHEN ttl_minutes IS NULL THEN expires_at ELSE "
                f"now() + make_interval(secs => ttl_minutes * 60) END WHERE prefix = :p AND key = :k AND {_LIVE} "
                "RETURNING prefix, key, value, created_at, updated_at"), params)).first()
        else:
            row = (await session.execute(text(
                f"SELECT prefix, key, value, created_at, updated_at FROM store_items "
                f"WHERE prefix = :p AND key = :k AND {_LIVE}"), params)).first()
        return _item_of(row) if row is not None else None

    async def _put(self, session: AsyncSession, op: PutOp, vectors: list[tuple[str, list[float]]] | None) -> None:
        params: dict[str, Any] = {"u": self.user_id, "p": namespace_text(op.namespace), "k": op.key}
        if op.value is None:
            await session.execute(text("DELETE FROM store_items WHERE prefix = :p AND key = :k"), params)
            return
        params |= {"v": op.value, "ttl": op.ttl}
        await session.execute(text(
            "INSERT INTO store_items (user_id, prefix, key, value, ttl_minutes, expires_at) "
            "VALUES (:u, :p, :k, :v, CAST(:ttl AS float8), CASE WHEN CAST(:ttl AS float8) IS NULL THEN NULL "
            "  ELSE now() + make_interval(secs => CAST(:ttl AS float8) * 60) END) "
            "ON CONFLICT (user_id, prefix, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), "
            "  ttl_minutes = EXCLUDED.ttl_minutes, expires_at = EXCLUDED.expires_at, "
            "  created_at = CASE WHEN store_items.expires_at <= now() THEN now() ELSE store_items.created_at END"
        ).bindparams(bindparam("v", type_=JSONB)), params)
        if vectors is not None:
            await session.execute(text("DELETE FROM store_vectors WHERE prefix = :p AND key = :k"), params)
            for field_name, embedding in vectors:
                await session.execute(text(
                    "INSERT INTO store_vectors (user_id, prefix, key, field_name, embedding) "
                    "VALUES (:u, :p, :k, :f, :e)"), {**params, "f": field_name, "e": embedding})

    async def _search(self, session: AsyncSession, op: SearchOp, query_vector: list[float] | None) -> list[SearchItem]:
        where, params = [_LIVE], {"limit": op.limit, "offset": op.offset}
        if op.namespace_prefix:
            prefix = namespace_text(op.namespace_prefix)
            where.append("(prefix = :prefix OR starts_with(prefix, :prefix_dot))")
            params |= {"prefix": prefix, "prefix_dot": prefix + SEPARATOR}
        binds = []
        for n, (clause, value) in enumerate(_filter_clauses(op.filter or {})):
            where.append(clause.replace("{param}", f":f{n}"))
            params[f"f{n}"] = value
            binds.append(bindparam(f"f{n}", type_=JSONB))
        if op.query and query_vector is None:
            for n, word in enumerate(op.query.lower().split()):
                where.append(f"strpos(lower(value::text), :w{n}) > 0")
                params[f"w{n}"] = word
        if query_vector is not None:
            params["q"] = query_vector
            sql = (f"SELECT i.prefix, i.key, i.value, i.created_at, i.updated_at, v.score FROM store_items i "
                   f"LEFT JOIN LATERAL (SELECT max(dsa_cosine(s.embedding, CAST(:q AS float8[]))) AS score "
                   f"FROM store_vectors s WHERE s.prefix = i.prefix AND s.key = i.key) v ON true "
                   f"WHERE {' AND '.join(where)} ORDER BY v.score DESC NULLS LAST, i.updated_at DESC "
                   f"LIMIT :limit OFFSET :offset")
        else:
            sql = (f"SELECT prefix, key, value, created_at, updated_at, NULL AS score FROM store_items "
                   f"WHERE {' AND '.join(where)} ORDER BY updated_at DESC, prefix, key LIMIT :limit OFFSET :offset")
        statement = text(sql).bindparams(*binds) if binds else text(sql)
        rows = (await session.execute(statement, params)).all()
        if op.refresh_ttl and rows:
            await session.execute(text(
                "UPDATE store_items SET expires_at = now() + make_interval(secs => ttl_minutes * 60) "
                "WHERE ttl_minutes IS NOT NULL AND (prefix, key) IN (SELECT * FROM unnest(CAST(:ps AS text[]), CAST(:ks AS text[])))"),
                {"ps": [r.prefix for r in rows], "ks": [r.key for r in rows]})
        return [_item_of(r, r.score, scored=True) for r in rows]  # type: ignore[misc]

    async def _namespaces(self, session: AsyncSession, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        rows = (await session.execute(text(
            f"SELECT DISTINCT prefix FROM store_items WHERE {_LIVE} ORDER BY prefix"))).scalars()
        found: list[tuple[str, ...]] = []
        seen: set[tuple[str, ...]] = set()
        for prefix in rows:
            namespace = tuple(prefix.split(SEPARATOR))
            if not all(_matches(namespace, c) for c in op.match_conditions or ()):
                continue
            if op.max_depth is not None:
                namespace = namespace[: op.max_depth]
            if namespace not in seen:
                seen.add(namespace)
                found.append(namespace)
        found.sort()
        return found[op.offset: op.offset + op.limit]

    # --- embeddings (computed before the transaction opens) ----------------------------------------------

    async def _vectors_for(self, ops: list[Op]) -> dict[int, list[tuple[str, list[float]]]]:
        if self.embeddings is None:
            return {}
        wanted: list[tuple[int, str, str]] = []
        for index, op in enumerate(ops):
            if not isinstance(op, PutOp) or op.value is None or op.index is False:
                continue
            fields = self._index_fields if op.index is None else [(f, tokenize_path(f)) for f in op.index]
            for name, path in fields:
                for n, piece in enumerate(get_text_at_path(op.value, path)):
                    wanted.append((index, name if n == 0 else f"{name}.{n}", piece))
        by_op: dict[int, list[tuple[str, list[float]]]] = {
            i: [] for i, op in enumerate(ops) if isinstance(op, PutOp) and op.value is not None}
        if wanted:
            embedded = await self.embeddings.aembed_documents([piece for _, _, piece in wanted])
            for (index, name, _), vector in zip(wanted, embedded, strict=True):
                by_op[index].append((name, [float(x) for x in vector]))
        return by_op

    async def _query_vectors(self, ops: list[Op]) -> dict[int, list[float]]:
        if self.embeddings is None:
            return {}
        queries = {i: op.query for i, op in enumerate(ops) if isinstance(op, SearchOp) and op.query}
        if not queries:
            return {}
        vectors = await self.embeddings.aembed_documents(list(queries.values()))
        return {i: [float(x) for x in v] for i, v in zip(queries, vectors, strict=True)}


def _matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    path = tuple(condition.path)
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[len(namespace) - len(path):]
    return all(p == "*" or p == n for p, n in zip(path, part, strict=True))


def _field_sql(field: str) -> str:
    parts = field.split(SEPARATOR)
    if not field or not all(parts) or any("'" in p or "}" in p or "," in p for p in parts):
        raise StoreFilterError(f"filter field {field!r} is not a field name")
    return "value #> '{" + ",".join(f'"{p}"' for p in parts) + "}'"


def _filter_clauses(filters: dict[str, Any]) -> list[tuple[str, Any]]:
    """`{"field": value}` or `{"field": {"$gt": value}}`, on top-level or dotted fields, as SQL over JSONB."""
    clauses: list[tuple[str, Any]] = []
    for field, condition in filters.items():
        column = _field_sql(field)
        if isinstance(condition, dict) and condition and all(str(k).startswith("$") for k in condition):
            for operator, value in condition.items():
                if operator not in FILTER_OPERATORS:
                    raise StoreFilterError(f"filter {field}: unknown operator {operator!r}; use one of "
                                           f"{', '.join(FILTER_OPERATORS)}")
                clauses.append((f"{column} {FILTER_OPERATORS[operator]} " + "{param}", value))
        else:
            clauses.append((f"{column} = " + "{param}", condition))
    return clauses


def item_json(item: Item) -> dict[str, Any]:
    """An item as the API answers it (`Item.dict()`, timestamps as ISO text)."""
    body = item.dict()
    for key in ("created_at", "updated_at"):
        if isinstance(body.get(key), dt.datetime):
            body[key] = body[key].isoformat()
    return body
