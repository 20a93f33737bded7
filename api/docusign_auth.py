"""Connecting DocuSign with the authorization-code flow: `GET /auth/docusign/login` and `/auth/docusign/callback`.

Login needs a signed-in user (Authorization header, X-Api-Key, or `?token=` because a browser navigating to a
link cannot set headers; the redirect answer carries `Referrer-Policy: no-referrer` so the token does not leak to
DocuSign). It redirects to DocuSign's consent page with a `state` that is a short-lived HS256 token binding the
user id and a nonce; the same nonce is set in an HttpOnly, SameSite=Lax cookie. The callback accepts the code
only if the state verifies *and* the browser presents the cookie, so a consent link started by someone else
cannot attach another person's DocuSign account to a profile (login CSRF). Then it exchanges the code, reads the
default account from userinfo, stores the credentials encrypted and marks the profile.

Answers are JSON, or a small HTML page when the browser asks for HTML.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import uuid
from html import escape
from typing import Any

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from api.auth import Principal, current_principal
from api.errors import ApiError
from db.models import Profile
from docusign_client.errors import DocuSignError
from docusign_client.clients import DocuSignClients
from docusign_agent.secrets import jwt_secret

log = logging.getLogger(__name__)
router = APIRouter(tags=["docusign"])

STATE_AUDIENCE = "dsa:docusign-oauth-state"
STATE_TTL = dt.timedelta(minutes=10)
COOKIE = "dsa_docusign_oauth"
COOKIE_PATH = "/auth/docusign"


def _clients(request: Request) -> DocuSignClients:
    clients = getattr(request.app.state, "docusign_clients", None)
    if clients is None:
        raise ApiError(503, "docusign_unavailable", "the DocuSign client layer is not running")
    return clients  # type: ignore[no-any-return]


def _secret(request: Request) -> str:
    return jwt_secret(request.app.state.settings)


def issue_state(secret: str, user_id: uuid.UUID, nonce: str) -> str:
    now = dt.datetime.now(dt.UTC)
    return jwt.encode({"sub": str(user_id), "nonce": nonce, "aud": STATE_AUDIENCE, "iat": now, "exp": now + STATE_TTL},
                      secret, algorithm="HS256")


def verify_state(secret: str, state: str, cookie_nonce: str | None) -> uuid.UUID:
    try:
        claims = jwt.decode(state, secret, algorithms=["HS256"], audience=STATE_AUDIENCE,
                            options={"require": ["sub", "nonce", "exp", "aud"]})
        user_id = uuid.UUID(str(claims["sub"]))
    except jwt.ExpiredSignatureError:
        raise ApiError(400, "invalid_state", "the DocuSign sign-in took too long; start again at /auth/docusign/login",
                       field="state") from None
    except (jwt.PyJWTError, ValueError):
        raise ApiError(400, "invalid_state", "the state parameter is not valid; start again at /auth/docusign/login",
                       field="state") from None
    if not cookie_nonce or not hmac.compare_digest(str(claims["nonce"]), cookie_nonce):
        raise ApiError(400, "invalid_state", "this DocuSign sign-in was not started from this browser; start again at "
                       "/auth/docusign/login", field="state")
    return user_id


async def _login_principal(request: Request) -> Principal:
    token = request.query_params.get("token")
    if token and not request.headers.get("authorization") and not request.headers.get("x-api-key"):
        principal = await request.app.state.authenticator.authenticate(f"Bearer {token}", None)
        request.state.principal = principal
        return principal  # type: ignore[no-any-return]
    return await current_principal(request)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _answer(request: Request, status: int, body: dict[str, Any], title: str, text: str) -> Response:
    if _wants_html(request):
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
                f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")
        return HTMLResponse(page, status_code=status)
    return JSONResponse(body, status_code=status)


def _error(request: Request, error: ApiError) -> Response:
    response = _answer(request, error.status, error.body(), "DocuSign was not connected", error.message)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/auth/docusign/login", summary="Start connecting your DocuSign account (redirects to its consent page)",
            responses={302: {"description": "To DocuSign's consent page"},
                       401: {"description": "Missing, expired or invalid credentials"},
                       409: {"description": "The token's email belongs to another user"},
                       502: {"description": "DocuSign did not answer; try again"},
                       503: {"description": "The DocuSign client layer or the database is not running"}})
async def login(request: Request) -> Response:
    principal = await _login_principal(request)
    clients = _clients(request)
    async with clients.database.user_session(principal.user_id) as session:
        email = (await session.execute(select(Profile.email).where(Profile.id == principal.user_id))).scalar()
    nonce = secrets.token_urlsafe(24)
    state = issue_state(_secret(request), principal.user_id, nonce)
    try:
        url = await clients.authorization_url(state=state, login_hint=email or principal.email)
    except DocuSignError as exc:
        raise ApiError(502, "docusign_unavailable", exc.user_message) from None
    if "application/json" in request.headers.get("accept", ""):
        response: Response = JSONResponse({"authorization_url": url})
    else:
        response = RedirectResponse(url, status_code=302)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(COOKIE, nonce, max_age=int(STATE_TTL.total_seconds()), path=COOKIE_PATH, httponly=True,
                        samesite="lax", secure=request.app.state.settings.base_url.startswith("https://"))
    return response


@router.get("/auth/docusign/callback", summary="Where DocuSign sends you back after consent",
            responses={400: {"description": "A missing or stale `state`, consent denied, or a code DocuSign refused"},
                       503: {"description": "The DocuSign client layer is not running"}})
async def callback(request: Request) -> Response:
    params = request.query_params
    try:
        state = params.get("state")
        if not state:
            raise ApiError(400, "invalid_state", "the state parameter is missing", field="state")
        user_id = verify_state(_secret(request), state, request.cookies.get(COOKIE))
        if params.get("error"):
            reason = params.get("error_description") or params["error"]
            raise ApiError(400, "consent_denied",
                           f"DocuSign access was not granted ({reason}); nothing was connected", field="error")
        code = params.get("code")
        if not code:
            raise ApiError(400, "invalid_request", "the code parameter is missing", field="code")
        clients = _clients(request)
        try:
            tokens = await clients.connect_with_code(user_id, code)
        except DocuSignError as exc:
            log.warning("DocuSign code exchange failed for user %s: %s", user_id, exc.error_code)
            raise ApiError(400, "docusign_exchange_failed",
                           f"DocuSign did not accept the sign-in ({exc.error_code}); start again at "
                           "/auth/docusign/login") from None
    except ApiError as error:
        return _error(request, error)
    body = {"connected": True, "account_id": tokens.account_id, "docusign_user_id": tokens.docusign_user_id}
    response = _answer(request, 200, body, "DocuSign connected",
                       "DocuSign is connected. You can close this page and go back to the chat.")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response
