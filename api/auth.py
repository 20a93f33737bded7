"""Who is calling: bearer JWTs (ours, Supabase's, or an issuer's JWKS) and API keys for programs.

Authentication failures are 401 with a JSON body and never say whether a user or key exists.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from api.errors import ApiError
from db import profiles
from db.storable import text_problem
from db.session import Database
from docusign_agent.settings import Settings
from docusign_agent.secrets import jwt_secret

ALGORITHMS = ["HS256"]
VERIFIED_SECONDS = 30.0
"""How long a verified bearer token is trusted without checking it again (never past its `exp`). Tokens have
no server-side revocation, so this changes nothing a client can observe; it saves the decode on every request."""
VERIFIED_KEPT = 10_000  # verified tokens remembered at once (the memo is emptied when full)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str | None
    via: str  # "jwt" or "api_key"


def issue_token(settings: Settings, user_id: uuid.UUID, email: str, ttl_seconds: int | None = None) -> str:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "email": email,
        "role": "authenticated",
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds or settings.auth_token_ttl_seconds),
    }
    if settings.auth_jwt_issuer:
        claims["iss"] = settings.auth_jwt_issuer
    if settings.auth_jwt_audience:
        claims["aud"] = settings.auth_jwt_audience
    return jwt.encode(claims, jwt_secret(settings), algorithm="HS256")


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = jwt_secret(settings)
        self._jwks = jwt.PyJWKClient(str(settings.auth_jwks_url)) if settings.auth_jwks_url else None
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, trusted until, epoch s)

    async def verify(self, token: str) -> Principal:
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        principal, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, min(now + VERIFIED_SECONDS, expires))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        options = {"require": ["sub", "exp"], "verify_aud": bool(self._settings.auth_jwt_audience)}
        kwargs: dict[str, Any] = {"audience": self._settings.auth_jwt_audience, "issuer": self._settings.auth_jwt_issuer}
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") in ALGORITHMS:
                claims = jwt.decode(token, self._secret, algorithms=ALGORITHMS, options=options, **kwargs)
            elif self._jwks is not None:
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                claims = jwt.decode(token, key.key, algorithms=["RS256", "ES256"], options=options, **kwargs)
            else:
                raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "token_expired", "the bearer token has expired") from None
        except jwt.PyJWTError as exc:
            raise ApiError(401, "invalid_token", f"the bearer token is not valid: {exc}") from None
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError:
            raise ApiError(401, "invalid_token", "the bearer token's sub is not a user id", field="sub") from None
        return Principal(user_id=user_id, email=_email_claim(claims.get("email")), via="jwt"), float(claims["exp"])


def _email_claim(email: Any) -> str | None:
    """The token's `email`, if it is one a profile can keep (text, at most 320 characters, storable)."""
    if email is None:
        return None
    problem = ("must be a string" if not isinstance(email, str) else
               f"is longer than {profiles.MAX_EMAIL_LENGTH} characters"
               if len(email.strip()) > profiles.MAX_EMAIL_LENGTH else text_problem(email))
    if problem:
        raise ApiError(401, "invalid_token", f"the bearer token's email claim {problem}; ask its issuer for a "
                       "token with a usable email", field="email")
    return email


class Authenticator:
    """Resolves a request to a Principal; creates a profile the first time a valid token holder shows up."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self._verifier = TokenVerifier(settings)
        self._db = database
        self._known: set[uuid.UUID] = set()

    async def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        if api_key:
            async with self._db.anonymous_session() as session:
                owner = await profiles.api_key_owner(session, api_key)
            if owner is None:
                raise ApiError(401, "invalid_api_key", "the API key is not valid")
            async with self._db.user_session(owner) as session:
                await profiles.touch_api_key(session, api_key)
            return Principal(user_id=owner, email=None, via="api_key")
        if not authorization:
            raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> or X-Api-Key")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthenticated", "the Authorization header must be 'Bearer <token>'")
        principal = await self._verifier.verify(token.strip())
        if principal.user_id not in self._known:
            try:
                async with self._db.user_session(principal.user_id) as session:
                    await profiles.ensure_profile(session, principal.user_id, principal.email)
            except profiles.EmailTaken:
                raise ApiError(409, "email_in_use", "the bearer token's email already belongs to another user "
                               "of this server (another sub); sign in as that user, or use a token with your own "
                               "email", field="email") from None
            self._known.add(principal.user_id)
        return principal


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(
        request.headers.get("authorization"), request.headers.get("x-api-key")
    )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
