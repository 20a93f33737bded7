"""OAuth against the emulator: JWT grant with consent, authorization code, refresh rotation, revocation, expiry."""

from __future__ import annotations

import base64
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from docusign_esign import ApiClient, EnvelopesApi, TemplatesApi

pytest.register_assert_rewrite("emulator_helpers")
from emulator_helpers import (
    Emu,
    Integration,
    generate_rsa,
    jwt_assertion,
    jwt_token,
    oauth_audience,
    register_integration,
)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REDIRECT = "http://127.0.0.1:9/callback"




def new_user(emu: Emu) -> dict[str, str]:
    resp = emu.control(
        "POST", "/users", {"email": f"u-{uuid.uuid4().hex[:8]}@example.com", "name": "Una User"}
    )
    assert resp.status_code == 201
    return resp.json()


def token_request(
    emu: Emu, integ: Integration, data: dict[str, str], secret: str | None = None
) -> httpx.Response:
    basic = base64.b64encode(f"{integ.key}:{secret or integ.secret}".encode()).decode()
    return emu.http.post(f"{emu.root}/oauth/token", data=data, headers={"Authorization": f"Basic {basic}"})


def test_jwt_grant_requires_consent_and_a_valid_assertion(emu: Emu, integration: Integration) -> None:
    user = new_user(emu)
    before = jwt_token(emu, integration, user["user_id"])
    assert before.status_code == 400 and before.json() == {"error": "consent_required"}

    assert (
        emu.control("POST", "/consent", {"integration_key": integration.key, "user_id": "nobody"}).status_code
        == 400
    )
    assert (
        emu.control(
            "POST", "/consent", {"integration_key": integration.key, "user_id": user["user_id"]}
        ).status_code
        == 200
    )
    ok = jwt_token(emu, integration, user["user_id"])
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and "signature" in body["scope"]

    other_private, _ = generate_rsa()
    forged = jwt_assertion(other_private, integration.key, user["user_id"], oauth_audience(emu))
    for assertion, reason in (
        (forged, "no_valid_keys_or_signatures"),
        (
            jwt_assertion(
                integration.private_pem, integration.key, user["user_id"], oauth_audience(emu), ttl=-60
            ),
            "expired",
        ),
        (
            jwt_assertion(
                integration.private_pem, integration.key, user["user_id"], "account-d.docusign.com"
            ),
            "invalid_audience",
        ),
        (
            jwt_assertion(integration.private_pem, "unknown-ik", user["user_id"], oauth_audience(emu)),
            "issuer_not_found",
        ),
        (
            jwt_assertion(integration.private_pem, integration.key, str(uuid.uuid4()), oauth_audience(emu)),
            "user_not_found",
        ),
        ("not-a-jwt", "Malformed"),
    ):
        resp = emu.http.post(
            f"{emu.root}/oauth/token", data={"grant_type": JWT_GRANT, "assertion": assertion}
        )
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant", reason
        assert reason in resp.json()["error_description"]
    hs = jwt.encode(
        {
            "iss": integration.key,
            "sub": user["user_id"],
            "aud": oauth_audience(emu),
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        uuid.uuid4().hex + uuid.uuid4().hex,
        algorithm="HS256",
    )
    resp = emu.http.post(f"{emu.root}/oauth/token", data={"grant_type": JWT_GRANT, "assertion": hs})
    assert resp.json()["error"] == "invalid_grant"
    unsupported = emu.http.post(f"{emu.root}/oauth/token", data={"grant_type": "password"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_userinfo_base_uri_drives_the_sdk(emu: Emu, integration: Integration) -> None:
    user = new_user(emu)
    emu.control("POST", "/consent", {"integration_key": integration.key, "user_id": user["user_id"]})
    token = jwt_token(emu, integration, user["user_id"]).json()["access_token"]
    info = emu.http.get(f"{emu.root}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).json()
    assert info["sub"] == user["user_id"] and info["email"] == user["email"] and info["name"] == "Una User"
    account = info["accounts"][0]
    assert account["is_default"] is True and account["account_id"] == user["account_id"]
    assert account["base_uri"] == emu.root == user["base_uri"]
    client = ApiClient(host=account["base_uri"] + "/restapi")
    client.set_default_header("Authorization", f"Bearer {token}")
    names = [t.name for t in TemplatesApi(client).list_templates(account["account_id"]).envelope_templates]
    assert names == ["Mutual NDA", "Offer Letter", "Services Agreement"]
    bad = emu.http.get(f"{emu.root}/oauth/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def _authorize(emu: Emu, integ: Integration, **params: str) -> httpx.Response:
    query = {
        "response_type": "code",
        "client_id": integ.key,
        "redirect_uri": REDIRECT,
        "scope": "signature",
        "state": "xyz",
        **params,
    }
    return emu.http.get(f"{emu.root}/oauth/auth", params=query)


def _code_from(resp: httpx.Response) -> str:
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_authorization_code_flow_and_refresh_rotation(emu: Emu) -> None:
    integ = register_integration(emu, redirect_uris=[REDIRECT])
    email = f"code-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        _authorize(
            emu, integ, redirect_uri="http://evil.example/cb", auto_consent="true", login_hint=email
        ).status_code
        == 400
    )
    assert (
        _authorize(emu, integ, client_id="unknown", auto_consent="true", login_hint=email).status_code == 400
    )
    code = _code_from(_authorize(emu, integ, auto_consent="true", login_hint=email))

    wrong_secret = token_request(emu, integ, {"grant_type": "authorization_code", "code": code}, secret="bad")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    mismatch = token_request(
        emu,
        integ,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/other"},
    )
    assert mismatch.json()["error"] == "invalid_grant"

    code = _code_from(_authorize(emu, integ, auto_consent="true", login_hint=email))
    first = token_request(
        emu, integ, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert first.status_code == 200
    tokens = first.json()
    assert {"access_token", "refresh_token", "expires_in", "token_type", "scope"} <= set(tokens)
    reused = token_request(
        emu, integ, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert reused.json()["error"] == "invalid_grant"

    info = emu.http.get(
        f"{emu.root}/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["email"] == email

    rotated = token_request(
        emu, integ, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"] and new["access_token"] != tokens["access_token"]
    stale = token_request(
        emu, integ, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    assert emu.control("POST", "/oauth/revoke", {"refresh_token": "unknown"}).status_code == 400
    assert emu.control("POST", "/oauth/revoke", {"refresh_token": new["refresh_token"]}).status_code == 200
    revoked = token_request(
        emu, integ, {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}
    )
    assert revoked.json()["error"] == "invalid_grant"


def test_consent_page_allow_and_deny(emu: Emu) -> None:
    integ = register_integration(emu, redirect_uris=[REDIRECT])
    page = _authorize(emu, integ, login_hint="page@example.com")
    assert page.status_code == 200 and "Allow" in page.text and "page@example.com" in page.text
    form = {
        "client_id": integ.key,
        "redirect_uri": REDIRECT,
        "scope": "signature",
        "state": "xyz",
        "response_type": "code",
        "email": "page@example.com",
        "name": "Page User",
    }
    denied = emu.http.post(f"{emu.root}/oauth/auth/consent", data={**form, "decision": "deny"})
    assert "error=access_denied" in denied.headers["location"]
    allowed = emu.http.post(f"{emu.root}/oauth/auth/consent", data={**form, "decision": "allow"})
    code = _code_from(allowed)
    tokens = token_request(emu, integ, {"grant_type": "authorization_code", "code": code}).json()
    assert tokens["access_token"]

    auto = register_integration(emu, auto_consent=True, redirect_uris=[REDIRECT])
    _code_from(_authorize(emu, auto, login_hint="auto@example.com"))


def test_expired_and_missing_tokens_get_401(emu: Emu, integration: Integration, clean_knobs: None) -> None:
    user = new_user(emu)
    emu.control("POST", "/consent", {"integration_key": integration.key, "user_id": user["user_id"]})
    assert emu.control("POST", "/config", {"access_token_ttl_seconds": "soon"}).status_code == 400
    assert emu.control("POST", "/config", {"no_such_knob": 1}).status_code == 400
    emu.control("POST", "/config", {"access_token_ttl_seconds": 0})
    token = jwt_token(emu, integration, user["user_id"]).json()["access_token"]
    url = f"{emu.rest_host}/v2.1/accounts/{user['account_id']}/templates"
    expired = emu.http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and expired.json()["errorCode"] == "AUTHORIZATION_INVALID_TOKEN"
    missing = emu.http.get(url)
    assert missing.status_code == 401 and missing.json()["errorCode"] == "USER_AUTHENTICATION_FAILED"
    emu.control("POST", "/config", {"access_token_ttl_seconds": 3600})
    fresh = jwt_token(emu, integration, user["user_id"]).json()["access_token"]
    client = ApiClient(host=emu.rest_host)
    client.set_default_header("Authorization", f"Bearer {fresh}")
    info = EnvelopesApi(client).list_status_changes(user["account_id"], from_date="2020-01-01")
    assert info.result_set_size == "0"
