"""A short-lived read-through cache for envelope reads (`get_envelope`, `list_recipients`).

An agent turn often reads the same envelope several times (status, then recipients, then status again); a few
seconds of caching saves DocuSign calls against the hourly and burst limits without showing stale state for
long. Writes made through the client (send, void, correct, resend) and Connect events (the webhook worker calls
`invalidate`) drop the envelope's entries at once.

One hash per envelope holds every cached view of it (`{account}|{kind}` fields), so `invalidate(envelope_id)` is
a single delete and needs no account. Each field stores its own write time and is ignored once older than the
TTL. Redis when REDIS_URL is set (shared by every worker), an in-process dict otherwise: same interface.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis.asyncio as redis

PREFIX = "dsa:docusign:envelope:"


class EnvelopeCache(Protocol):
    async def get(self, envelope_id: str, field: str) -> Any | None: ...
    async def set(self, envelope_id: str, field: str, value: Any) -> None: ...
    async def invalidate(self, envelope_id: str) -> None: ...
    async def aclose(self) -> None: ...


class MemoryEnvelopeCache:
    """Bounded (least recently used envelopes are dropped first); for one process only."""

    def __init__(self, ttl_seconds: float, max_envelopes: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_envelopes = max_envelopes
        self._data: OrderedDict[str, dict[str, tuple[float, str]]] = OrderedDict()

    async def get(self, envelope_id: str, field: str) -> Any | None:
        entry = self._data.get(envelope_id, {}).get(field)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        self._data.move_to_end(envelope_id)
        return json.loads(entry[1])

    async def set(self, envelope_id: str, field: str, value: Any) -> None:
        if self.ttl <= 0:
            return
        self._data.setdefault(envelope_id, {})[field] = (time.monotonic(), json.dumps(value))
        self._data.move_to_end(envelope_id)
        while len(self._data) > self.max_envelopes:
            self._data.popitem(last=False)

    async def invalidate(self, envelope_id: str) -> None:
        self._data.pop(envelope_id, None)

    async def aclose(self) -> None:
        self._data.clear()


class RedisEnvelopeCache:
    def __init__(self, url: str, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._redis = redis.Redis.from_url(url)

    async def get(self, envelope_id: str, field: str) -> Any | None:
        raw = await self._redis.hget(PREFIX + envelope_id, field)
        if raw is None:
            return None
        stored = json.loads(raw)
        if time.time() - float(stored["t"]) > self.ttl:
            return None
        return stored["v"]

    async def set(self, envelope_id: str, field: str, value: Any) -> None:
        if self.ttl <= 0:
            return
        key = PREFIX + envelope_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, field, json.dumps({"t": time.time(), "v": value}))
            pipe.expire(key, max(1, int(self.ttl) + 1))
            await pipe.execute()

    async def invalidate(self, envelope_id: str) -> None:
        await self._redis.delete(PREFIX + envelope_id)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_envelope_cache(redis_url: str | None, ttl_seconds: float) -> EnvelopeCache:
    return RedisEnvelopeCache(redis_url, ttl_seconds) if redis_url else MemoryEnvelopeCache(ttl_seconds)
