"""The authorization-code routes end to end: login -> DocuSign consent (the emulator, auto-approved) ->
callback -> encrypted credentials -> a working client; and every way the callback must refuse."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.auth import issue_token
from api.docusign_auth import COOKIE, issue_state
from db.models import ApiCredential, Profile
from db.session import Database
from docusign_agent.settings import Settings
from tests.client_helpers import EmulatorServer, authorization_code, emulator, new_user  # noqa: F401
from tests.conftest import role_urls, running_app


@pytest.fixture(scope="module")
async def app_client(settings: Settings, emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    # The product finds its emulator at PUBLIC_URL + /_emulator; here that is the emulator's own port.
    served = settings.model_copy(update={"public_url": emulator.root})
    app = create_app(served, role_urls(settings.database_url))  # type: ignore[arg-type]
    async with running_app(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def user_and_token(settings: Settings, database: Database) -> tuple[uuid.UUID, str, str]:
    email = f"connect-{uuid.uuid4().hex[:8]}@example.com"
    user = await new_user(database, email)
    return user, email, issue_token(settings, user, email)


async def credential_rows(database: Database, user: uuid.UUID) -> list[ApiCredential]:
    async with database.owner_session() as session:
        return list((await session.execute(select(ApiCredential).where(ApiCredential.user_id == user))).scalars())


async def test_login_consent_callback_then_a_working_client(app_client: httpx.AsyncClient, settings: Settings,
                                                            database: Database, emulator: EmulatorServer) -> None:  # noqa: F811
    user, email, token = await user_and_token(settings, database)
    login = await app_client.get("/auth/docusign/login", headers={"Authorization": f"Bearer {token}"})
    assert login.status_code == 302 and login.headers["referrer-policy"] == "no-referrer"
    location = login.headers["location"]
    assert location.startswith(emulator.url + "/oauth/auth?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"] and query["login_hint"] == [email]
    assert query["redirect_uri"] == [emulator.root + "/auth/docusign/callback"]
    assert COOKIE in app_client.cookies

    code, state = await authorization_code(location)
    callback = await app_client.get("/auth/docusign/callback", params={"code": code, "state": state})
    assert callback.status_code == 200, callback.text
    body = callback.json()
    assert body["connected"] is True and COOKIE not in app_client.cookies

    rows = await credential_rows(database, user)
    assert len(rows) == 1 and rows[0].grant_type == "authorization_code" and rows[0].status == "active"
    assert rows[0].account_id == body["account_id"]
    assert not any(t.encode() in rows[0].access_token for t in emulator.state.access_tokens)
    assert not any(t.encode() in (rows[0].refresh_token or b"") for t in emulator.state.refresh_tokens)
    async with database.owner_session() as session:
        profile = (await session.execute(select(Profile).where(Profile.id == user))).scalar_one()
    assert (profile.docusign_user_id, profile.docusign_account_id) == (body["docusign_user_id"], body["account_id"])
    assert emulator.state.users[profile.docusign_user_id].email == email

    client = await app_client.app.state.docusign_clients.for_user(user)  # type: ignore[attr-defined]
    assert client.account_id == body["account_id"]
    assert len((await client.list_templates()).value.envelope_templates) == 3


async def test_browser_login_with_token_query_and_html_answers(app_client: httpx.AsyncClient, settings: Settings,
                                                               database: Database) -> None:
    user, _, token = await user_and_token(settings, database)
    login = await app_client.get("/auth/docusign/login", params={"token": token})
    assert login.status_code == 302
    code, state = await authorization_code(login.headers["location"])
    page = await app_client.get("/auth/docusign/callback", params={"code": code, "state": state},
                                headers={"Accept": "text/html"})
    assert page.status_code == 200 and "DocuSign connected" in page.text
    assert len(await credential_rows(database, user)) == 1


async def test_login_requires_a_user(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/auth/docusign/login")).status_code == 401
    assert (await app_client.get("/auth/docusign/login", params={"token": "not-a-jwt"})).status_code == 401


async def test_bad_state_is_refused_and_stores_nothing(app_client: httpx.AsyncClient, settings: Settings,
                                                       database: Database) -> None:
    user, _, token = await user_and_token(settings, database)
    login = await app_client.get("/auth/docusign/login", headers={"Authorization": f"Bearer {token}"})
    code, state = await authorization_code(login.headers["location"])
    nonce = app_client.cookies[COOKIE]

    cases = {
        "tampered": {"code": code, "state": state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")},
        "missing": {"code": code},
        "other_secret": {"code": code, "state": issue_state("another-secret-of-enough-length-123456", user, nonce)},
    }
    for name, params in cases.items():
        response = await app_client.get("/auth/docusign/callback", params=params)
        assert response.status_code == 400, name
        assert response.json()["error"] == "invalid_state" and response.json()["field"] == "state", name
        app_client.cookies.set(COOKIE, nonce, path="/auth/docusign")  # refusals clear the cookie; restore it

    # a state started in another browser (no cookie, or another nonce) is refused too
    app_client.cookies.clear()
    response = await app_client.get("/auth/docusign/callback", params={"code": code, "state": state})
    assert response.status_code == 400 and "not started from this browser" in response.json()["message"]
    html = await app_client.get("/auth/docusign/callback", params={"code": code, "state": state},
                                headers={"Accept": "text/html"})
    assert html.status_code == 400 and "DocuSign was not connected" in html.text
    assert await credential_rows(database, user) == []


async def test_denied_consent_and_bad_code(app_client: httpx.AsyncClient, settings: Settings,
                                           database: Database) -> None:
    user, _, token = await user_and_token(settings, database)
    login = await app_client.get("/auth/docusign/login", headers={"Authorization": f"Bearer {token}"})
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    nonce = app_client.cookies[COOKIE]
    denied = await app_client.get("/auth/docusign/callback", params={"error": "access_denied", "state": state})
    assert denied.status_code == 400 and denied.json()["error"] == "consent_denied"
    assert "access_denied" in denied.json()["message"]

    app_client.cookies.set(COOKIE, nonce, path="/auth/docusign")
    bad_code = await app_client.get("/auth/docusign/callback", params={"code": "emu_code_bogus", "state": state})
    assert bad_code.status_code == 400 and bad_code.json()["error"] == "docusign_exchange_failed"
    assert await credential_rows(database, user) == []
