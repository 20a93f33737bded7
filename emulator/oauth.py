"""DocuSign OAuth: JWT grant, authorization code with consent, rotating refresh tokens, userinfo.

Error bodies are OAuth's `{"error", "error_description"}`, as DocuSign's account server answers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from emulator.accounts import create_or_get_user
from emulator.errors import json_body
from emulator.runtime import Emulator, emulator_of, root_url
from emulator.state import Grant, Integration, User, new_token

router = APIRouter()
CODE_TTL_SECONDS = 300


class OAuthError(Exception):
    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return JSONResponse(body, status_code=self.status)


def _audiences(request: Request) -> list[str]:
    root = root_url(request)
    without_scheme = root.split("://", 1)[1]
    return [root, root + "/", without_scheme, request.url.netloc, urlsplit(root).hostname or ""]


def _client(emu: Emulator, request: Request) -> Integration:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "HTTP Basic client authentication is required.", 401)
    try:
        key, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401) from exc
    integration = emu.state.integrations.get(key)
    if (
        integration is None
        or not integration.secret_key
        or not hmac.compare_digest(integration.secret_key, secret)
    ):
        raise OAuthError("invalid_client", "Unknown integration key or wrong secret.", 401)
    return integration


def _issue(emu: Emulator, user_id: str, integration_key: str, scope: str, *, refresh: bool) -> dict[str, Any]:
    cfg = emu.config()
    now = time.time()
    access = new_token("emu_at_")
    emu.state.access_tokens[access] = Grant(
        user_id, integration_key, scope, now + cfg.access_token_ttl_seconds
    )
    for token in [t for t, g in emu.state.access_tokens.items() if g.expires_at < now - 3600]:
        del emu.state.access_tokens[token]
    out: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": cfg.access_token_ttl_seconds,
        "scope": scope,
    }
    if refresh:
        token = new_token("emu_rt_")
        emu.state.refresh_tokens[token] = Grant(
            user_id, integration_key, scope, now + cfg.refresh_token_ttl_seconds
        )
        out["refresh_token"] = token
    emu.changed()
    return out


def _jwt_grant(emu: Emulator, request: Request, assertion: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_grant", f"Malformed assertion: {exc}") from exc
    integration = emu.state.integrations.get(str(claims.get("iss", "")))
    if integration is None:
        raise OAuthError("invalid_grant", "issuer_not_found")
    if not integration.public_key_pem:
        raise OAuthError(
            "invalid_grant", "no_valid_keys_or_signatures: the integration has no RSA public key."
        )
    try:
        claims = jwt.decode(
            assertion,
            integration.public_key_pem,
            algorithms=["RS256"],
            audience=_audiences(request),
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise OAuthError("invalid_grant", "expired: the assertion has expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise OAuthError("invalid_grant", "invalid_audience: aud must be this OAuth host.") from exc
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_grant", f"no_valid_keys_or_signatures: {exc}") from exc
    user = emu.state.users.get(str(claims["sub"]))
    if user is None:
        raise OAuthError("invalid_grant", "user_not_found")
    if not (integration.auto_consent or emu.state.has_consent(integration.integration_key, user.user_id)):
        raise OAuthError("consent_required")
    scope = str(claims.get("scope") or "signature impersonation")
    return _issue(emu, user.user_id, integration.integration_key, scope, refresh=False)


def _code_grant(emu: Emulator, request: Request, form: dict[str, str]) -> dict[str, Any]:
    integration = _client(emu, request)
    code = form.get("code", "")
    grant = emu.state.auth_codes.pop(code, None)
    if (
        grant is None
        or grant.expires_at < time.time()
        or grant.integration_key != integration.integration_key
    ):
        raise OAuthError("invalid_grant", "The authorization code is invalid, expired or already used.")
    if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the one used to obtain the code.")
    return _issue(emu, grant.user_id, grant.integration_key, grant.scope, refresh=True)


def _refresh_grant(emu: Emulator, request: Request, form: dict[str, str]) -> dict[str, Any]:
    integration = _client(emu, request)
    token = form.get("refresh_token", "")
    grant = emu.state.refresh_tokens.get(token)
    if (
        grant is None
        or grant.expires_at < time.time()
        or grant.integration_key != integration.integration_key
    ):
        raise OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked.")
    del emu.state.refresh_tokens[token]  # rotation: the old refresh token dies with this use
    return _issue(emu, grant.user_id, grant.integration_key, grant.scope, refresh=True)


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    grant_type = form.get("grant_type", "")
    try:
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse(_jwt_grant(emu, request, form.get("assertion", "")))
        if grant_type == "authorization_code":
            return JSONResponse(_code_grant(emu, request, form))
        if grant_type == "refresh_token":
            return JSONResponse(_refresh_grant(emu, request, form))
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")
    except OAuthError as err:
        return err.response()


@router.get("/oauth/userinfo")
async def userinfo(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    grant = emu.state.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if grant is None or grant.expires_at <= time.time() or grant.user_id not in emu.state.users:
        return OAuthError("invalid_token", "The access token is invalid or expired.", 401).response()
    user = emu.state.users[grant.user_id]
    return JSONResponse(user_info(emu, user, root_url(request)))


def user_info(emu: Emulator, user: User, base_uri: str) -> dict[str, Any]:
    accounts = [
        {
            "account_id": a,
            "is_default": i == 0,
            "account_name": emu.state.accounts[a].name,
            "base_uri": base_uri,
        }
        for i, a in enumerate(user.account_ids)
    ]
    first, _, last = user.name.partition(" ")
    return {
        "sub": user.user_id,
        "name": user.name,
        "given_name": first,
        "family_name": last,
        "email": user.email,
        "created": "2024-01-01T00:00:00.000Z",
        "accounts": accounts,
    }


def _auth_params_error(emu: Emulator, params: dict[str, str]) -> tuple[Integration | None, str | None]:
    if params.get("response_type") != "code":
        return None, "response_type must be 'code'."
    integration = emu.state.integrations.get(params.get("client_id", ""))
    if integration is None:
        return None, "Unknown client_id."
    if params.get("redirect_uri") not in integration.redirect_uris:
        return None, "redirect_uri is not registered for this integration."
    return integration, None


def _redirect_with_code(
    emu: Emulator, integration: Integration, user: User, params: dict[str, str]
) -> Response:
    emu.state.grant_consent(integration.integration_key, user.user_id)
    code = new_token("emu_code_")
    emu.state.auth_codes[code] = Grant(
        user.user_id,
        integration.integration_key,
        params.get("scope") or "signature",
        time.time() + CODE_TTL_SECONDS,
        params["redirect_uri"],
    )
    emu.changed()
    query = {"code": code} | ({"state": params["state"]} if params.get("state") else {})
    sep = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(params["redirect_uri"] + sep + urlencode(query), status_code=302)


@router.get("/oauth/auth")
async def authorize(request: Request) -> Response:
    emu = emulator_of(request)
    params = {k: v for k, v in request.query_params.items()}
    integration, problem = _auth_params_error(emu, params)
    if integration is None:
        return HTMLResponse(f"<h1>Authorization error</h1><p>{escape(problem or '')}</p>", status_code=400)
    auto = params.get("auto_consent", "").lower() == "true" or integration.auto_consent
    hint = params.get("login_hint", "").strip()
    if auto and hint:
        user, _ = create_or_get_user(emu.state, hint)
        return _redirect_with_code(emu, integration, user, params)
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if k in ("client_id", "redirect_uri", "scope", "state", "response_type")
    )
    page = f"""<!doctype html><html><head><title>DocuSign emulator: consent</title></head><body>
<h1>Allow access?</h1><p>The application <b>{escape(integration.integration_key)}</b> asks for the scopes
<b>{escape(params.get("scope", "signature"))}</b>.</p>
<form method="post" action="{escape(root_url(request))}/oauth/auth/consent">{hidden}
<label>Email <input name="email" value="{escape(hint)}" required></label>
<label>Name <input name="name"></label>
<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button>
</form></body></html>"""
    return HTMLResponse(page)


@router.post("/oauth/auth/consent")
async def consent(request: Request) -> Response:
    emu = emulator_of(request)
    params = {k: str(v) for k, v in (await request.form()).items()}
    integration, problem = _auth_params_error(emu, params)
    if integration is None:
        return HTMLResponse(f"<h1>Authorization error</h1><p>{escape(problem or '')}</p>", status_code=400)
    if params.get("decision") != "allow":
        query = {"error": "access_denied"} | ({"state": params["state"]} if params.get("state") else {})
        return RedirectResponse(params["redirect_uri"] + "?" + urlencode(query), status_code=302)
    email = params.get("email", "").strip()
    if "@" not in email:
        return HTMLResponse("<h1>Authorization error</h1><p>A valid email is required.</p>", status_code=400)
    user, _ = create_or_get_user(emu.state, email, params.get("name") or None)
    return _redirect_with_code(emu, integration, user, params)


@router.post("/oauth/revoke")
async def revoke(request: Request) -> JSONResponse:
    """Test control (not DocuSign): kill a refresh token so clients' re-consent paths can be exercised."""
    emu = emulator_of(request)
    body = await json_body(request)
    token_value = body.get("refresh_token")
    if not isinstance(token_value, str) or token_value not in emu.state.refresh_tokens:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "Unknown refresh_token."}, status_code=400
        )
    del emu.state.refresh_tokens[token_value]
    emu.changed()
    return JSONResponse({"revoked": True})
