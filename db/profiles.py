"""Profiles and API keys: the identity rows the auth layer needs."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, Profile, UserPreferences
from db.session import Database

API_KEY_PREFIX = "dsa_"
# The person a graph run acts for when it carries no identity: only outside our authenticated server
# (`langgraph dev`, a notebook) and for CLI commands given no --user.
LOCAL_USER_EMAIL = "local@docusign-agent.invalid"


MAX_EMAIL_LENGTH = 320  # the column's length, and RFC 5321's limit on a path


class EmailTaken(Exception):
    """Another profile already has this email, so this user id cannot take it (emails are unique)."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def ensure_profile_by_email(session: AsyncSession, email: str, display_name: str | None = None) -> uuid.UUID:
    """Owner-session only: find or create the profile for an email (the CLI's `token --user`)."""
    email = normalize_email(email)
    stmt = insert(Profile).values(email=email, display_name=display_name).on_conflict_do_nothing(index_elements=["email"])
    await session.execute(stmt)
    return (await session.execute(select(Profile.id).where(Profile.email == email))).scalar_one()


async def ensure_profile(session: AsyncSession, user_id: uuid.UUID, email: str | None) -> None:
    """User-session: first request of a token holder (e.g. a Supabase user) creates their profile.

    Raises `EmailTaken` when the email belongs to another profile: the insert then did nothing, and the user id
    has no profile to hang preferences on."""
    stmt = insert(Profile).values(id=user_id, email=normalize_email(email or f"{user_id}@users.invalid"))
    await session.execute(stmt.on_conflict_do_nothing())
    if (await session.execute(select(Profile.id).where(Profile.id == user_id))).scalar_one_or_none() is None:
        raise EmailTaken(f"the email {email!r} already belongs to another user")
    await session.execute(insert(UserPreferences).values(user_id=user_id).on_conflict_do_nothing())


async def ensure_user(database: Database, email: str, display_name: str | None = None) -> uuid.UUID:
    """The profile for `email` (created if needed, with its preferences), as the CLI and the dev fallback need."""
    async with database.owner_session() as session:
        user_id = await ensure_profile_by_email(session, email, display_name)
    async with database.user_session(user_id) as session:
        await ensure_profile(session, user_id, email)
    return user_id


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(session: AsyncSession, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    """Returns the row and the key itself, which is shown once and never stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user_id, name=name, prefix=key[:10], key_hash=hash_api_key(key))
    session.add(row)
    await session.flush()
    return row, key


async def api_key_owner(session: AsyncSession, key: str) -> uuid.UUID | None:
    """Whose key is this? Answered by a definer function, since RLS hides keys until we know the user."""
    result = await session.execute(text("SELECT dsa_api_key_owner(:h)"), {"h": hash_api_key(key)})
    return result.scalar_one_or_none()


async def touch_api_key(session: AsyncSession, key: str) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.key_hash == hash_api_key(key)).values(last_used_at=dt.datetime.now(dt.UTC))
    )
