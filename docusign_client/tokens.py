"""Access tokens that are always fresh, refreshed once no matter how many callers or processes need them.

Refresh tokens rotate: the first refresh kills the old refresh token, so two processes refreshing the same
credential at once would leave one of them holding a dead token (and the user would be asked to reconnect for
nothing). Two layers make a refresh happen exactly once:

* in one process, an `asyncio.Lock` per user plus an in-memory copy of the decrypted tokens: 50 concurrent
  tool calls wait on one refresh and then all read the new token from memory;
* across processes, the credential row itself: the refresh runs inside a transaction that holds
  `SELECT ... FOR UPDATE` on the `api_credentials` row, and re-reads the row after acquiring the lock, so a
  process that waited finds the token the other one just stored and does not refresh again.

The row lock was chosen over a Redis or advisory lock because the row is the shared truth anyway (the check and
the write are in the same transaction), it needs no extra infrastructure (the embedded deployment has no
Redis), and a process that dies mid-refresh releases it with its connection instead of leaving a lease to
expire. The cost, holding one pooled connection during one OAuth round trip, is paid once per token lifetime.

A dead grant (`invalid_grant` on refresh, withdrawn consent) marks the row `reconnect_required` and raises
`ReconnectRequired`; later calls see the mark and raise at once, without calling DocuSign again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import replace

from db import credentials
from db.credentials import Tokens
from db.crypto import TokenCipher
from db.session import Database
from docusign_agent.metrics import DOCUSIGN_TOKEN_GRANTS
from docusign_client.errors import ConsentRequired, InvalidGrant, NotConnected, ReconnectRequired
from docusign_client.oauth import OAuthClient

log = logging.getLogger(__name__)

DEFAULT_REFRESH_MARGIN = dt.timedelta(minutes=5)


class TokenManager:
    def __init__(self, database: Database, cipher: TokenCipher, oauth: OAuthClient, *, jwt_scopes: str,
                 refresh_margin: dt.timedelta = DEFAULT_REFRESH_MARGIN) -> None:
        self._db = database
        self._cipher = cipher
        self._oauth = oauth
        self._jwt_scopes = jwt_scopes
        self._margin = refresh_margin
        self._memory: dict[uuid.UUID, Tokens] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    def _lock(self, user_id: uuid.UUID) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    def _usable(self, tokens: Tokens | None, rejected: str | None = None) -> bool:
        return (tokens is not None and tokens.status == "active" and tokens.access_token != rejected
                and tokens.expires_at - self._margin > dt.datetime.now(dt.UTC))

    async def access_token(self, user_id: uuid.UUID) -> Tokens:
        """Tokens whose access token is valid for at least the refresh margin. Raises NotConnected/ReconnectRequired."""
        user_id = uuid.UUID(str(user_id))
        cached = self._memory.get(user_id)
        if self._usable(cached):
            return cached  # type: ignore[return-value]
        async with self._lock(user_id):
            cached = self._memory.get(user_id)
            if self._usable(cached):
                return cached  # type: ignore[return-value]
            return await self._load_or_refresh(user_id, rejected=None)

    async def force_refresh(self, user_id: uuid.UUID, rejected_access_token: str) -> Tokens:
        """DocuSign answered 401 to `rejected_access_token`: get a different one (once, however many callers saw it)."""
        user_id = uuid.UUID(str(user_id))
        async with self._lock(user_id):
            cached = self._memory.get(user_id)
            if self._usable(cached, rejected_access_token):
                return cached  # type: ignore[return-value]
            return await self._load_or_refresh(user_id, rejected=rejected_access_token)

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop the in-memory copy (after a reconnect stored new credentials)."""
        self._memory.pop(uuid.UUID(str(user_id)), None)

    async def _load_or_refresh(self, user_id: uuid.UUID, *, rejected: str | None) -> Tokens:
        async with self._db.user_session(user_id) as session:
            stored = await credentials.load(session, self._cipher, user_id)
        self._check_status(stored, user_id)
        assert stored is not None
        if self._usable(stored, rejected):
            self._memory[user_id] = stored
            return stored

        failure: ReconnectRequired | None = None
        async with self._db.user_session(user_id) as session:
            locked = await credentials.load(session, self._cipher, user_id, stored.account_id, for_update=True)
            self._check_status(locked, user_id)
            assert locked is not None
            if self._usable(locked, rejected):
                fresh = locked  # another process refreshed while we waited for the row
            else:
                try:
                    fresh = await self._grant(locked)
                except (InvalidGrant, ConsentRequired) as exc:
                    await credentials.mark_reconnect_required(session, user_id, locked.account_id)
                    failure = ReconnectRequired(f"refresh refused by DocuSign ({exc.error_code})",
                                                trace_token=exc.trace_token)
                    log.warning("DocuSign grant for user %s is dead (%s); marked reconnect_required",
                                user_id, exc.error_code)
                else:
                    await credentials.save(session, self._cipher, fresh)
        if failure is not None:  # raised after the block so the reconnect mark is committed
            self._memory.pop(user_id, None)
            raise failure
        self._memory[user_id] = fresh
        return fresh

    @staticmethod
    def _check_status(tokens: Tokens | None, user_id: uuid.UUID) -> None:
        if tokens is None:
            raise NotConnected()
        if tokens.status != "active":
            raise ReconnectRequired()

    async def _grant(self, current: Tokens) -> Tokens:
        if current.grant_type == "jwt":
            answer = await self._oauth.jwt_grant(current.docusign_user_id, self._jwt_scopes)
        elif current.refresh_token:
            answer = await self._oauth.refresh(current.refresh_token)
        else:
            raise InvalidGrant("no refresh token stored")
        DOCUSIGN_TOKEN_GRANTS.labels(grant=current.grant_type).inc()
        return replace(
            current,
            access_token=answer.access_token,
            refresh_token=answer.refresh_token or current.refresh_token,
            expires_at=answer.expires_at(),
            scopes=tuple(answer.scope.split()) if answer.scope else current.scopes,
            status="active",
        )
