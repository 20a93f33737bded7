"""Bearer JWTs and API keys on a protected route; every failure is a 401 with a JSON body."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt
import pytest
from httpx import AsyncClient

from api.app import create_app
from api.auth import issue_token
from db import profiles
from db.session import Database
from docusign_agent.settings import Settings
from tests.conftest import role_urls, running_app
from tests.servers import await_until
from docusign_agent.secrets import jwt_secret


@pytest.fixture
async def client(settings: Settings) -> AsyncClient:
    async with running_app(create_app(settings, role_urls(settings.database_url))) as client:  # type: ignore[arg-type]
        yield client


async def test_public_routes(client: AsyncClient) -> None:
    assert (await client.get("/ok")).json() == {"ok": True}
    assert (await client.get("/info")).status_code == 200


async def test_valid_jwt(client: AsyncClient, settings: Settings) -> None:
    user = uuid.uuid4()
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {issue_token(settings, user, 'a@example.com')}"})
    assert response.status_code == 200 and response.json()["user_id"] == str(user)


async def test_supabase_style_token(client: AsyncClient, settings: Settings) -> None:
    user = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    token = jwt.encode({"sub": str(user), "aud": "authenticated", "role": "authenticated", "email": "s@example.com",
                        "exp": now + dt.timedelta(hours=1), "iat": now, "iss": "https://x.supabase.co/auth/v1"},
                       jwt_secret(settings), algorithm="HS256")
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["user_id"] == str(user)


async def test_a_verified_token_is_not_trusted_past_its_expiry(client: AsyncClient, settings: Settings) -> None:
    """Verified tokens are remembered for a while (api/auth.py); the memo must never outlive the token."""
    user = uuid.uuid4()
    token = issue_token(settings, user, "short@example.com", ttl_seconds=2)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/v1/me", headers=headers)).status_code == 200  # from the memo
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    await await_until(lambda: time.time() > expires, timeout=60)  # the token's own expiry, not the memo's
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "token_expired"


def bad_tokens(settings: Settings) -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    user = str(uuid.uuid4())
    return {
        "expired": jwt.encode({"sub": user, "exp": now - dt.timedelta(seconds=5)}, jwt_secret(settings), "HS256"),
        "malformed": "not.a.jwt",
        "wrong_signature": jwt.encode({"sub": user, "exp": now + dt.timedelta(hours=1)}, "another-secret-entirely-different-from-ours", "HS256"),
        "no_sub": jwt.encode({"exp": now + dt.timedelta(hours=1)}, jwt_secret(settings), "HS256"),
        "sub_not_uuid": jwt.encode({"sub": "bob", "exp": now + dt.timedelta(hours=1)}, jwt_secret(settings), "HS256"),
        "alg_none": jwt.encode({"sub": user, "exp": now + dt.timedelta(hours=1)}, None, "none"),
    }


@pytest.mark.parametrize("kind", ["expired", "malformed", "wrong_signature", "no_sub", "sub_not_uuid", "alg_none"])
async def test_bad_jwt_is_401_json(client: AsyncClient, settings: Settings, database: Database, kind: str) -> None:
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {bad_tokens(settings)[kind]}"})
    assert response.status_code == 401
    body = response.json()
    assert body["error"] in {"invalid_token", "token_expired"} and body["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                                     {"X-Api-Key": "dsa_unknown"}])
async def test_missing_or_unknown_credentials(client: AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"] in {"unauthenticated", "invalid_api_key"}


async def test_api_key(client: AsyncClient, database: Database) -> None:
    async with database.owner_session() as session:
        user = await profiles.ensure_profile_by_email(session, f"{uuid.uuid4().hex[:6]}@example.com")
    async with database.user_session(user) as session:
        row, key = await profiles.create_api_key(session, user, "ci")
    assert key not in (row.key_hash, row.prefix) and row.key_hash == profiles.hash_api_key(key)
    response = await client.get("/v1/me", headers={"X-Api-Key": key})
    assert response.status_code == 200 and response.json() == {"user_id": str(user), "email": None, "via": "api_key"}
    async with database.user_session(user) as session:
        from sqlalchemy import update

        from db.models import ApiKey
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=dt.datetime.now(dt.UTC)))
    assert (await client.get("/v1/me", headers={"X-Api-Key": key})).status_code == 401
