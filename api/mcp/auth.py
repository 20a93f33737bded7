"""Who is calling `/mcp`: the app's own authentication (bearer JWT or `X-Api-Key`), per request, per user.

The MCP transport is a plain ASGI app, outside FastAPI's dependencies, so this wrapper runs the app's
`Authenticator` on every HTTP request before the transport sees it. A refusal is the API's usual 401 body, with
the `WWW-Authenticate: Bearer` challenge MCP clients look for; when an issuer is configured
(`AUTH_JWT_ISSUER`) the challenge points at this resource's OAuth protected-resource metadata (RFC 9728), which
names that issuer as the authorization server, so a client can run MCP's OAuth flow against it.

The principal is handed on twice: in the request's state (the handlers read it from there) and as the SDK's
`AuthenticatedUser` in `scope["user"]`, so the SDK binds each MCP session to the user who opened it and
answers another user's request for that session as if it did not exist.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Authenticator, Principal
from api.errors import ApiError
from docusign_agent.settings import Settings

MCP_PATH = "/mcp"


def resource_url(settings: Settings) -> str:
    return settings.base_url + MCP_PATH


def metadata_path(settings: Settings) -> str:
    """`/.well-known/oauth-protected-resource/mcp`: RFC 9728 puts the resource's path after the well-known one."""
    url = str(build_resource_metadata_url(AnyHttpUrl(resource_url(settings))))
    return "/" + url.split("/", 3)[3]


def protected_resource_metadata(settings: Settings) -> dict[str, Any] | None:
    """What an MCP client needs to start OAuth, or None when no issuer is configured (then there is nothing to
    discover: tokens come from `docusign-agent token`, the local sign-in or an API key)."""
    if not settings.auth_jwt_issuer:
        return None
    metadata = ProtectedResourceMetadata(resource=AnyHttpUrl(resource_url(settings)),
                                         authorization_servers=[AnyHttpUrl(settings.auth_jwt_issuer)],
                                         resource_name="docusign-agent")
    return metadata.model_dump(mode="json", by_alias=True, exclude_none=True)


def principal_of(request: Request | None) -> Principal:
    """The caller of an MCP request, as `McpAuth` recorded it (a handler is never reached without one)."""
    principal = getattr(request.state, "principal", None) if request is not None else None
    if not isinstance(principal, Principal):
        raise RuntimeError("an MCP request reached a handler without an authenticated principal")
    return principal


class McpAuth:
    """ASGI wrapper: authenticate, then pass the request on to the MCP transport."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.metadata_url = settings.base_url + metadata_path(settings) if settings.auth_jwt_issuer else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        authenticator: Authenticator = request.app.state.authenticator
        try:
            principal = await authenticator.authenticate(request.headers.get("authorization"),
                                                         request.headers.get("x-api-key"))
        except ApiError as exc:
            await self._refuse(exc)(scope, receive, send)
            return
        request.state.principal = principal
        credential = request.headers.get("x-api-key") or request.headers.get("authorization") or ""
        scope["user"] = AuthenticatedUser(AccessToken(
            # Only a digest: the token itself never needs to be kept beside the session.
            token=hashlib.sha256(credential.encode()).hexdigest(), client_id=principal.via, scopes=[],
            subject=str(principal.user_id)))
        await self.app(scope, receive, send)

    def _refuse(self, exc: ApiError) -> Response:
        challenge = f'Bearer error="invalid_token", error_description="{exc.message}"'
        if self.metadata_url:
            challenge += f', resource_metadata="{self.metadata_url}"'
        return Response(orjson.dumps(exc.body()), status_code=exc.status, media_type="application/json",
                        headers={"WWW-Authenticate": challenge})


def metadata_response(settings: Settings) -> JSONResponse:
    body = protected_resource_metadata(settings)
    assert body is not None
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})
