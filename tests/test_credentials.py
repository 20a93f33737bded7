"""Tokens at rest: encrypted, bound to their row, readable across key rotation, never silently lost."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid

import pytest
from sqlalchemy import select

from db import credentials, profiles
from db.crypto import CredentialKeyError, TokenCipher
from db.models import ApiCredential
from db.session import Database


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def sample(user_id: uuid.UUID, access: str = "access-SECRET-123", refresh: str | None = "refresh-SECRET-456") -> credentials.Tokens:
    return credentials.Tokens(
        user_id=user_id, account_id="acct-1", docusign_user_id="ds-user", base_uri="http://127.0.0.1/_emulator",
        grant_type="authorization_code", access_token=access, refresh_token=refresh,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), scopes=("signature",), status="active",
    )


async def new_user(database: Database) -> uuid.UUID:
    async with database.owner_session() as session:
        return await profiles.ensure_profile_by_email(session, f"{uuid.uuid4().hex[:8]}@example.com")


async def test_round_trip_stores_ciphertext(database: Database) -> None:
    user = await new_user(database)
    cipher = TokenCipher([new_key()])
    async with database.user_session(user) as session:
        await credentials.save(session, cipher, sample(user))
    async with database.owner_session() as session:
        row = (await session.execute(select(ApiCredential).where(ApiCredential.user_id == user))).scalar_one()
    assert b"access-SECRET-123" not in row.access_token and b"refresh-SECRET-456" not in (row.refresh_token or b"")
    assert row.key_id == cipher.current_key_id
    async with database.user_session(user) as session:
        tokens = await credentials.load(session, cipher, user)
    assert tokens is not None and tokens.access_token == "access-SECRET-123"
    assert tokens.refresh_token == "refresh-SECRET-456"
    assert "SECRET" not in repr(tokens)


async def test_rotation_keeps_tokens_readable(database: Database) -> None:
    user = await new_user(database)
    old, new = new_key(), new_key()
    async with database.user_session(user) as session:
        await credentials.save(session, TokenCipher([old]), sample(user))
    rotated = TokenCipher([new, old])
    async with database.user_session(user) as session:
        assert (await credentials.load(session, rotated, user)).access_token == "access-SECRET-123"  # type: ignore[union-attr]
        assert await credentials.reencrypt_all(session, rotated) == 1
    async with database.user_session(user) as session:
        tokens = await credentials.load(session, TokenCipher([new]), user)  # old key retired
    assert tokens is not None and tokens.refresh_token == "refresh-SECRET-456"


async def test_wrong_key_is_a_clear_error_and_overwrites_nothing(database: Database) -> None:
    user = await new_user(database)
    right = new_key()
    async with database.user_session(user) as session:
        await credentials.save(session, TokenCipher([right]), sample(user))
    async with database.owner_session() as session:
        before = (await session.execute(select(ApiCredential.access_token).where(ApiCredential.user_id == user))).scalar_one()
    wrong = TokenCipher([new_key()])
    with pytest.raises(CredentialKeyError, match="not in CREDENTIALS_ENCRYPTION_KEY"):
        async with database.user_session(user) as session:
            await credentials.reencrypt_all(session, wrong)
    with pytest.raises(CredentialKeyError):
        async with database.user_session(user) as session:
            await credentials.load(session, wrong, user)
    async with database.owner_session() as session:
        after = (await session.execute(select(ApiCredential.access_token).where(ApiCredential.user_id == user))).scalar_one()
    assert before == after
    async with database.user_session(user) as session:
        assert (await credentials.load(session, TokenCipher([right]), user)).access_token == "access-SECRET-123"  # type: ignore[union-attr]


async def test_ciphertext_is_bound_to_its_row(database: Database) -> None:
    """A token copied into another user's row does not decrypt there."""
    a, b = await new_user(database), await new_user(database)
    cipher = TokenCipher([new_key()])
    for user in (a, b):
        async with database.user_session(user) as session:
            await credentials.save(session, cipher, sample(user, access=f"tok-{user}"))
    async with database.owner_session() as session:
        a_token = (await session.execute(select(ApiCredential.access_token).where(ApiCredential.user_id == a))).scalar_one()
        row_b = (await session.execute(select(ApiCredential).where(ApiCredential.user_id == b))).scalar_one()
        row_b.access_token = a_token
    with pytest.raises(CredentialKeyError):
        async with database.user_session(b) as session:
            await credentials.load(session, cipher, b)
