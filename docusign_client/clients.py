"""`DocuSignClients`: the one object an app creates at start-up to reach DocuSign, handed to what needs it.

    clients = await asyncio.to_thread(DocuSignClients, settings, database)   # in the app's lifespan
    client = await clients.for_user(user_id)        # a tool, through its ToolContext
    await clients.invalidate(envelope_id)           # the Connect worker, after a change
    await clients.aclose()

It owns what is shared: the OAuth client, the TokenManager, the envelope cache and the thread pool that runs the
synchronous SDK. Clients are cached per user; in emulator mode a user's first call provisions them. Building
one reads key files from DATA_DIR (and generates the emulator integration's RSA key the first time), so it is
done off the event loop. No module holds one: each app (and the `langgraph dev` fallback) owns its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from db.credentials import Tokens
from db.crypto import TokenCipher
from db.models import ApiCredential
from db.session import Database
from docusign_agent.secrets import encryption_keys
from docusign_agent.settings import Settings
from docusign_client.cache import EnvelopeCache, make_envelope_cache
from docusign_client.client import DocuSignClient
from docusign_client.errors import NotConnected
from docusign_client.oauth import OAuthClient
from docusign_client.provision import (
    EmulatorProvisioner,
    ServiceUserProvisioner,
    connect_with_code,
    emulator_integration,
    redirect_uri,
)
from docusign_client.retry import RetryPolicy
from docusign_client.tokens import DEFAULT_REFRESH_MARGIN, TokenManager

AUTH_CODE_SCOPES = "signature extended"


class DocuSignClients:
    def __init__(self, settings: Settings, database: Database, cache: EnvelopeCache | None = None, *,
                 emulator_url: str | None = None, retry: RetryPolicy | None = None, max_workers: int = 16,
                 http: httpx.AsyncClient | None = None,
                 refresh_margin: dt.timedelta = DEFAULT_REFRESH_MARGIN) -> None:
        """`emulator_url` overrides `settings.base_url + "/_emulator"` (tests run the emulator on its own port)."""
        self.settings = settings
        self.database = database
        self.mode = "real" if settings.docusign_is_real else "emulator"
        self.cipher = TokenCipher(encryption_keys(settings))
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=settings.docusign_timeout_seconds)
        self.redirect_uri = redirect_uri(settings)
        self.provisioner: EmulatorProvisioner | ServiceUserProvisioner | None
        if self.mode == "emulator":
            self.emulator_url: str | None = (emulator_url or settings.base_url + "/_emulator").rstrip("/")
            integration = emulator_integration(settings)
            self.oauth = OAuthClient(self.emulator_url, integration.integration_key,
                                     secret_key=integration.secret_key, private_key_pem=integration.private_key_pem,
                                     http=self._http, redirect_uri=self.redirect_uri)
            self.provisioner = EmulatorProvisioner(
                database, self.cipher, self.oauth, self._http, emulator_url=self.emulator_url,
                integration=integration, redirect_uris=[self.redirect_uri], scopes=settings.docusign_scopes)
        else:
            self.emulator_url = None
            private_key = (settings.docusign_private_key_path.read_text()
                           if settings.docusign_private_key_path else None)
            self.oauth = OAuthClient(str(settings.docusign_oauth_base_url), str(settings.docusign_integration_key),
                                     secret_key=settings.docusign_secret_key, private_key_pem=private_key,
                                     http=self._http, redirect_uri=self.redirect_uri)
            self.provisioner = (
                ServiceUserProvisioner(database, self.cipher, self.oauth, settings.docusign_user_id,
                                       settings.docusign_scopes)
                if settings.docusign_user_id and private_key else None)
        self.tokens = TokenManager(database, self.cipher, self.oauth, jwt_scopes=settings.docusign_scopes,
                                   refresh_margin=refresh_margin)
        self.cache = cache or make_envelope_cache(settings.redis_url, settings.docusign_cache_ttl_seconds)
        self.retry = retry or RetryPolicy(max_retries=settings.docusign_max_retries)
        self._max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="docusign-sdk")
        self._clients: dict[uuid.UUID, DocuSignClient] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        # Called once per user and process with their new client: the server uses it in emulator mode to point
        # the user's emulator account's Connect at our webhook.
        self.on_connect: Callable[[DocuSignClient], Awaitable[None]] | None = None

    async def for_user(self, user_id: uuid.UUID | str) -> DocuSignClient:
        """The user's client. Raises NotConnected / ReconnectRequired when they must (re)connect first."""
        user_id = uuid.UUID(str(user_id))
        client = self._clients.get(user_id)
        if client is not None:
            return client
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            client = self._clients.get(user_id)
            if client is not None:
                return client
            client = self._build(user_id, await self._connect(user_id))
            if self.on_connect is not None:
                await self.on_connect(client)
            self._clients[user_id] = client
            return client

    async def _connect(self, user_id: uuid.UUID) -> Tokens:
        if isinstance(self.provisioner, EmulatorProvisioner):
            await self.provisioner.ensure_integration()
            async with self.database.user_session(user_id) as session:
                stored = (await session.execute(select(ApiCredential.grant_type, ApiCredential.status)
                                                .where(ApiCredential.user_id == user_id))).first()
            if stored is None or tuple(stored) == ("jwt", "active"):
                # First call, or a JWT connection the emulator may have forgotten (it starts empty unless
                # EMULATOR_SNAPSHOT_PATH is set, while our database keeps the credentials). Provisioning is
                # idempotent (create-or-get by email), so it runs once per process and heals a restarted emulator.
                tokens = await self.provisioner.provision(user_id)
                self.tokens.forget(user_id)
                return tokens
        try:
            return await self.tokens.access_token(user_id)
        except NotConnected:
            if self.provisioner is None:
                raise
            return await self.provisioner.provision(user_id)

    def _build(self, user_id: uuid.UUID, tokens: Tokens) -> DocuSignClient:
        return DocuSignClient(user_id=user_id, account_id=tokens.account_id, base_uri=tokens.base_uri,
                              tokens=self.tokens, executor=self._executor, cache=self.cache, retry=self.retry,
                              timeout=self.settings.docusign_timeout_seconds, pool_size=self._max_workers)

    def forget(self, user_id: uuid.UUID | str) -> None:
        """Drop the cached client and token copy (after the user connected a different account)."""
        user_id = uuid.UUID(str(user_id))
        self._clients.pop(user_id, None)
        self.tokens.forget(user_id)

    async def invalidate(self, envelope_id: str) -> None:
        """For the Connect worker: an envelope changed, drop its cached reads."""
        await self.cache.invalidate(envelope_id)

    # --- authorization-code flow (api/docusign_auth.py) -----------------------------------------------------

    async def authorization_url(self, *, state: str, login_hint: str | None = None) -> str:
        if isinstance(self.provisioner, EmulatorProvisioner):
            await self.provisioner.ensure_integration()
        return self.oauth.authorization_url(redirect_uri=self.redirect_uri, scopes=AUTH_CODE_SCOPES, state=state,
                                            login_hint=login_hint)

    async def connect_with_code(self, user_id: uuid.UUID, code: str) -> Tokens:
        tokens = await connect_with_code(self.database, self.cipher, self.oauth, user_id, code, self.redirect_uri)
        self.forget(user_id)
        return tokens

    async def aclose(self) -> None:
        self._clients.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
        await self.cache.aclose()
        await self.oauth.aclose()
        if self._owns_http:
            await self._http.aclose()
