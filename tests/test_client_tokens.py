"""Token lifecycle: one refresh however many callers (and processes) need it, dead grants, 401 recovery."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from db import credentials
from db.crypto import TokenCipher
from db.models import ApiCredential
from db.session import Database
from docusign_agent.settings import Settings
from tests.client_helpers import (  # noqa: F401
    EmulatorServer,
    RequestCounter,
    authorization_code,
    emulator,
    new_user,
    run_emulator,
)
from tests.conftest import role_urls
from docusign_client import DocuSignClients, NotConnected, ReconnectRequired
from docusign_client.oauth import OAuthClient
from docusign_client.provision import emulator_integration
from docusign_client.retry import RetryPolicy
from docusign_client.tokens import TokenManager
from docusign_agent.secrets import encryption_keys


@pytest.fixture(scope="module")
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture(scope="module")
async def clients(settings: Settings, database: Database, emulator: EmulatorServer,  # noqa: F811
                  counter: RequestCounter) -> AsyncIterator[DocuSignClients]:
    http = counter.client()
    registry = DocuSignClients(settings, database, emulator_url=emulator.url, http=http,
                               retry=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=1.0))
    yield registry
    await registry.aclose()
    await http.aclose()


async def code_user(clients: DocuSignClients, database: Database) -> uuid.UUID:
    """A user connected through the authorization-code flow (rotating refresh tokens)."""
    user = await new_user(database)
    url = await clients.authorization_url(state="test", login_hint=f"{user.hex[:8]}@example.com")
    code, _ = await authorization_code(url)
    tokens = await clients.connect_with_code(user, code)
    assert tokens.grant_type == "authorization_code" and tokens.refresh_token
    return user


async def expire(database: Database, user: uuid.UUID) -> None:
    async with database.owner_session() as session:
        await session.execute(update(ApiCredential).where(ApiCredential.user_id == user)
                              .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))


async def stored(database: Database, user: uuid.UUID) -> ApiCredential:
    async with database.owner_session() as session:
        return (await session.execute(select(ApiCredential).where(ApiCredential.user_id == user))).scalar_one()


@pytest.mark.parametrize("grant", ["jwt", "authorization_code"])
async def test_fifty_concurrent_calls_at_expiry_refresh_once(grant: str, clients: DocuSignClients, database: Database,
                                                             counter: RequestCounter) -> None:
    user = await (code_user(clients, database) if grant == "authorization_code" else new_user(database))
    client = await clients.for_user(user)
    assert (await stored(database, user)).grant_type == grant
    await expire(database, user)
    clients.tokens.forget(user)  # as after a restart: only the (expired) row is known
    before = counter.token_requests
    results = await asyncio.gather(*(client.list_templates() for _ in range(50)))
    assert all(len(r.value.envelope_templates) == 3 for r in results)
    assert counter.token_requests - before == 1
    row = await stored(database, user)
    assert row.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30) and row.refreshed_at is not None


async def test_two_processes_refresh_once(settings: Settings, clients: DocuSignClients, database: Database,
                                          emulator: EmulatorServer) -> None:  # noqa: F811
    user = await code_user(clients, database)
    await expire(database, user)
    integration = emulator_integration(settings)
    counters = [RequestCounter(), RequestCounter()]
    managers, resources = [], []
    for c in counters:  # each "process" has its own engine pool, OAuth client and memory
        db = Database(role_urls(settings.database_url), pool_size=3)  # type: ignore[arg-type]
        http = c.client()
        oauth = OAuthClient(emulator.url, integration.integration_key, secret_key=integration.secret_key,
                            private_key_pem=integration.private_key_pem, http=http)
        managers.append(TokenManager(db, TokenCipher(encryption_keys(settings)), oauth,
                                     jwt_scopes=settings.docusign_scopes))
        resources.append((db, http))
    try:
        results = await asyncio.gather(*(managers[i % 2].access_token(user) for i in range(50)))
    finally:
        for db, http in resources:
            await http.aclose()
            await db.dispose()
    assert sum(c.token_requests for c in counters) == 1
    assert len({t.access_token for t in results}) == 1


async def test_revoked_refresh_token_requires_reconnect(clients: DocuSignClients, database: Database,
                                                        emulator: EmulatorServer, counter: RequestCounter) -> None:  # noqa: F811
    user = await code_user(clients, database)
    client = await clients.for_user(user)
    async with database.user_session(user) as session:
        tokens = await credentials.load(session, clients.cipher, user)
    assert tokens is not None and tokens.refresh_token
    emulator.control("POST", "/oauth/revoke", {"refresh_token": tokens.refresh_token})
    await expire(database, user)
    clients.tokens.forget(user)

    with pytest.raises(ReconnectRequired) as caught:
        await client.list_templates()
    assert caught.value.user_message == ("Your DocuSign connection has expired or was revoked; reconnect DocuSign "
                                         "at /auth/docusign/login.")
    assert (await stored(database, user)).status == "reconnect_required"
    before = counter.token_requests
    with pytest.raises(ReconnectRequired):  # no endless retry: the mark answers at once
        await client.list_templates()
    clients.forget(user)
    with pytest.raises(ReconnectRequired):  # nor does asking the registry for a new client
        await clients.for_user(user)
    assert counter.token_requests == before


async def test_rejected_token_forces_one_refresh_and_a_retry(clients: DocuSignClients, database: Database,
                                                             counter: RequestCounter) -> None:
    user = await new_user(database)
    client = await clients.for_user(user)
    async with database.user_session(user) as session:
        tokens = await credentials.load(session, clients.cipher, user)
        assert tokens is not None
        # a token DocuSign no longer accepts although it has not expired (revoked, clock skew)
        await credentials.save(session, clients.cipher, replace(tokens, access_token="revoked-" + uuid.uuid4().hex))
    clients.tokens.forget(user)
    before = counter.token_requests
    results = await asyncio.gather(*(client.list_templates() for _ in range(10)))
    assert all(r.value.envelope_templates for r in results)
    assert counter.token_requests - before == 1


async def test_not_connected_without_provisioning(settings: Settings, database: Database,
                                                  emulator: EmulatorServer) -> None:  # noqa: F811
    user = await new_user(database)
    oauth = OAuthClient(emulator.url, emulator_integration(settings).integration_key)
    manager = TokenManager(database, TokenCipher(encryption_keys(settings)), oauth,
                           jwt_scopes=settings.docusign_scopes)
    try:
        with pytest.raises(NotConnected) as caught:
            await manager.access_token(user)
    finally:
        await oauth.aclose()
    assert caught.value.user_message == "DocuSign isn't connected yet; connect DocuSign at /auth/docusign/login."


async def test_emulator_that_restarted_empty_is_healed_by_provisioning(settings: Settings, database: Database,
                                                                       clients: DocuSignClients) -> None:
    """The embedded database outlives an emulator without a snapshot: the next process must not see dead rows."""
    user = await new_user(database)
    first = await clients.for_user(user)
    await first.list_templates()
    with run_emulator() as fresh:  # a new process, and an emulator that knows nobody
        registry = DocuSignClients(settings, database, emulator_url=fresh.url,
                                   retry=RetryPolicy(max_retries=1, base_delay=0.01, max_delay=1.0))
        try:
            client = await registry.for_user(user)
            assert len((await client.list_templates()).value.envelope_templates) == 3
        finally:
            await registry.aclose()
    row = await stored(database, user)
    assert row.status == "active" and row.account_id == client.account_id != first.account_id
    assert row.base_uri == fresh.url
