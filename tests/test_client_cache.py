"""The envelope read cache, on Redis (when REDIS_URL is set) and in-process: hit, miss, expiry, invalidation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from docusign_esign import EnvelopeDefinition, TemplateRole

from db.session import Database
from docusign_agent.settings import Settings
from tests.servers import await_until
from tests.client_helpers import REDIS_URL, EmulatorServer, cache_backends, emulator, new_user  # noqa: F401
from docusign_client import DocuSignClients
from docusign_client.cache import EnvelopeCache, MemoryEnvelopeCache, RedisEnvelopeCache
from docusign_client.retry import RetryPolicy


def make_cache(backend: str, ttl: float) -> EnvelopeCache:
    return RedisEnvelopeCache(REDIS_URL, ttl) if backend == "redis" else MemoryEnvelopeCache(ttl)  # type: ignore[arg-type]


@pytest.fixture(params=cache_backends())
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[EnvelopeCache]:
    c = make_cache(request.param, 30)
    yield c
    await c.aclose()


async def test_get_set_invalidate(cache: EnvelopeCache) -> None:
    envelope_id = str(uuid.uuid4())
    assert await cache.get(envelope_id, "acct|envelope:") is None
    await cache.set(envelope_id, "acct|envelope:", {"envelopeId": envelope_id, "status": "sent"})
    await cache.set(envelope_id, "acct|recipients", {"signers": []})
    assert await cache.get(envelope_id, "acct|envelope:") == {"envelopeId": envelope_id, "status": "sent"}
    assert await cache.get(envelope_id, "other-account|envelope:") is None  # fields are per account
    await cache.invalidate(envelope_id)
    assert await cache.get(envelope_id, "acct|envelope:") is None
    assert await cache.get(envelope_id, "acct|recipients") is None


@pytest.mark.parametrize("backend", cache_backends())
async def test_entries_expire(backend: str) -> None:
    cache = make_cache(backend, 3)  # long enough that the read right after the write is within it, even loaded
    try:
        envelope_id = "env-ttl-" + uuid.uuid4().hex
        await cache.set(envelope_id, "a|envelope:", {"x": 1})
        assert await cache.get(envelope_id, "a|envelope:") == {"x": 1}

        async def expired() -> bool:
            return await cache.get(envelope_id, "a|envelope:") is None

        await await_until(expired, timeout=30)
    finally:
        await cache.aclose()


@pytest.fixture(params=cache_backends())
async def clients(request: pytest.FixtureRequest, settings: Settings, database: Database,
                  emulator: EmulatorServer) -> AsyncIterator[DocuSignClients]:  # noqa: F811
    registry = DocuSignClients(settings, database, make_cache(request.param, 30), emulator_url=emulator.url,
                               retry=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=1.0))
    yield registry
    await registry.aclose()


async def test_client_reads_through_and_writes_invalidate(clients: DocuSignClients, database: Database,
                                                          emulator: EmulatorServer) -> None:  # noqa: F811
    client = await clients.for_user(await new_user(database))
    template_id = (await client.list_templates(search_text="NDA")).value.envelope_templates[0].template_id
    envelope_id = (await client.create_envelope(EnvelopeDefinition(template_id=template_id, status="sent", template_roles=[
        TemplateRole(role_name="Party A", name="Ada Alpha", email="ada@example.com"),
        TemplateRole(role_name="Party B", name="Bo Beta", email="bo@example.com")]),
        request_id=str(uuid.uuid4()))).value.envelope_id
    # a zero-latency fault fires on every matching request: it counts what really reached "DocuSign"
    counted = emulator.control("POST", "/faults", {"route": f"GET /restapi/.*/envelopes/{envelope_id}$",
                                                   "kind": "latency", "latency_ms": 0})

    def reads() -> int:
        return next(f["fired"] for f in emulator.control("GET", "/faults")["faults"]
                    if f["fault_id"] == counted["fault_id"])

    try:
        first = (await client.get_envelope(envelope_id)).value
        second = (await client.get_envelope(envelope_id)).value
        assert reads() == 1  # miss, then hit
        assert second.to_dict() == first.to_dict() and second.status == "sent"

        await client.void_envelope(envelope_id, "wrong document")  # a write through the client invalidates
        assert (await client.get_envelope(envelope_id)).value.status == "voided"
        assert reads() == 2

        await client.get_envelope(envelope_id)
        assert reads() == 2
        await clients.invalidate(envelope_id)  # what the Connect worker calls
        await client.get_envelope(envelope_id)
        assert reads() == 3
    finally:
        emulator.control("DELETE", "/faults")
