"""Local sign-in: on a server only this machine can reach, the chat page signs in as the local user.

`GET /auth/local` says whether it is available (and why not); `POST /auth/local` returns a bearer token for the
local user, the same kind of token `docusign-agent token` prints. It is available only when all of these hold:

- `LOCAL_SIGN_IN` is on (the default; `LOCAL_SIGN_IN=false` turns it off);
- the server listens on loopback only (`HOST` is 127.0.0.0/8, ::1 or localhost) and no `PUBLIC_URL` points
  elsewhere (a reverse proxy would make it reachable beyond this machine);
- the request itself comes from loopback and names a loopback host (a web page on another origin cannot read
  the answer, and a DNS-rebinding page is refused by its Host header).

Anyone who can run programs on this machine could read `DATA_DIR`'s secrets anyway, so a password would protect
nothing there; anywhere else the page asks for a token or an API key instead.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from api.auth import issue_token
from api.errors import ApiError
from db import profiles
from docusign_agent.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])

LOCAL_TOKEN_TTL_SECONDS = 12 * 3600


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unavailable_reason(settings: Settings) -> str | None:
    """Why the server's configuration rules local sign-in out, or None when it allows it."""
    if not settings.local_sign_in:
        return "local sign-in is turned off (LOCAL_SIGN_IN=false)"
    if not _is_loopback(settings.host):
        return f"the server listens on {settings.host}, beyond this machine"
    if settings.public_url is not None and not _is_loopback(urlsplit(str(settings.public_url)).hostname):
        return "the server is published at PUBLIC_URL, beyond this machine"
    return None


def _request_reason(request: Request) -> str | None:
    client = request.client.host if request.client else None
    if not _is_loopback(client):
        return "the request does not come from this machine"
    if not _is_loopback(urlsplit(f"//{request.headers.get('host', '')}").hostname):
        return "the request names a host other than this machine"
    return None


@router.get("/local", summary="Whether the chat page may sign in as the local user")
async def local_status(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    reason = unavailable_reason(settings) or _request_reason(request)
    return {"enabled": reason is None, "reason": reason}


@router.post("/local", summary="Sign in as the local user (loopback servers only)",
             responses={403: {"description": "Not a loopback server, or the request is not from this machine"}})
async def local_sign_in(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    reason = unavailable_reason(settings) or _request_reason(request)
    if reason is not None:
        raise ApiError(403, "local_sign_in_unavailable", f"Local sign-in is not available: {reason}. Sign in "
                       "with a bearer token (docusign-agent token --user EMAIL) or an API key instead.")
    user_id = await profiles.ensure_user(request.app.state.database, profiles.LOCAL_USER_EMAIL, "Local user")
    token = issue_token(settings, user_id, profiles.LOCAL_USER_EMAIL, ttl_seconds=LOCAL_TOKEN_TTL_SECONDS)
    return {"token": token, "token_type": "bearer", "expires_in": LOCAL_TOKEN_TTL_SECONDS,
            "user": {"user_id": str(user_id), "email": profiles.LOCAL_USER_EMAIL, "display_name": "Local user"}}
