"""DocuSign OAuth (JWT grant, authorization code, refresh, userinfo) over httpx.

Why not the SDK: docusign-esign's OAuth helpers (`request_jwt_user_token`, `generate_access_token`,
`get_user_info`) hard-code `https://` + an OAuth host name, so they cannot reach the emulator mounted at
`http://host:port/_emulator`, and the SDK has no refresh-token helper at all. OAuth is a handful of form posts,
so it is done here with httpx against `DOCUSIGN_OAUTH_BASE_URL` (e.g. `https://account-d.docusign.com`) or the
emulator's `/_emulator` root; the SDK is kept for the REST API, where it earns its keep (models, paths).

Nothing here ever logs or formats a token; errors carry OAuth's `error`/`error_description` only.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import jwt

from docusign_client.errors import (
    ConsentRequired,
    DocuSignError,
    InvalidGrant,
    OAuthError,
    TransientDocuSignError,
    parse_error_body,
)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class TokenResponse:
    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    token_type: str = "Bearer"

    def expires_at(self, issued: dt.datetime | None = None) -> dt.datetime:
        return (issued or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=self.expires_in)


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    account_name: str
    base_uri: str
    is_default: bool


@dataclass(frozen=True)
class UserInfo:
    sub: str
    name: str
    email: str
    accounts: tuple[AccountInfo, ...]

    def default_account(self) -> AccountInfo:
        if not self.accounts:
            raise DocuSignError("the DocuSign user has no accounts", error_code="NO_ACCOUNT")
        return next((a for a in self.accounts if a.is_default), self.accounts[0])


class OAuthClient:
    """One integration (client id) talking to one account server."""

    def __init__(self, base_url: str, integration_key: str, *, secret_key: str | None = None,
                 private_key_pem: str | None = None, http: httpx.AsyncClient | None = None,
                 timeout: float = 30.0, redirect_uri: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.integration_key = integration_key
        self._secret_key = secret_key
        self._private_key_pem = private_key_pem
        self.redirect_uri = redirect_uri  # where consent links send the person back
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    @property
    def audience(self) -> str:
        """DocuSign wants the OAuth host without its scheme (`account-d.docusign.com`) as the assertion's aud."""
        return self.base_url.split("://", 1)[-1]

    # --- grants ---------------------------------------------------------------------------------------------

    def jwt_assertion(self, user_id: str, scopes: str) -> str:
        if not self._private_key_pem:
            raise DocuSignError("no RSA private key configured for the JWT grant", error_code="NO_PRIVATE_KEY")
        now = int(time.time())
        claims = {"iss": self.integration_key, "sub": user_id, "aud": self.audience, "iat": now,
                  "exp": now + ASSERTION_LIFETIME_SECONDS, "scope": scopes}
        return jwt.encode(claims, self._private_key_pem, algorithm="RS256")

    async def jwt_grant(self, user_id: str, scopes: str) -> TokenResponse:
        """JWT bearer grant: impersonate `user_id` (needs the user's consent). No refresh token is issued."""
        form = {"grant_type": JWT_BEARER, "assertion": self.jwt_assertion(user_id, scopes)}
        return await self._token(form, basic=False, consent_scopes=scopes)

    async def exchange_code(self, code: str, redirect_uri: str) -> TokenResponse:
        return await self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                                 basic=True)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Refresh with HTTP Basic client auth. The answer carries a new refresh token (rotation)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, basic=True)

    async def userinfo(self, access_token: str) -> UserInfo:
        try:
            response = await self._http.get(f"{self.base_url}/oauth/userinfo",
                                            headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as exc:
            raise TransientDocuSignError(f"the DocuSign account server did not answer ({type(exc).__name__})",
                                         error_code="OAUTH_UNAVAILABLE") from None
        if response.status_code != 200:
            raise self._error(response)
        data = response.json()
        accounts = tuple(
            AccountInfo(account_id=str(a["account_id"]), account_name=str(a.get("account_name") or ""),
                        base_uri=str(a["base_uri"]).rstrip("/"), is_default=bool(a.get("is_default")))
            for a in data.get("accounts") or []
        )
        return UserInfo(sub=str(data["sub"]), name=str(data.get("name") or ""), email=str(data.get("email") or ""),
                        accounts=accounts)

    def authorization_url(self, *, redirect_uri: str, scopes: str, state: str, login_hint: str | None = None) -> str:
        params = {"response_type": "code", "scope": scopes, "client_id": self.integration_key,
                  "redirect_uri": redirect_uri, "state": state}
        if login_hint:
            params["login_hint"] = login_hint
        return f"{self.base_url}/oauth/auth?{urlencode(params)}"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _token(self, form: dict[str, str], *, basic: bool, consent_scopes: str | None = None) -> TokenResponse:
        headers = {"Accept": "application/json"}
        if basic:
            if not self._secret_key:
                raise DocuSignError("no DocuSign secret key configured (DOCUSIGN_SECRET_KEY)",
                                    error_code="NO_SECRET_KEY")
            raw = f"{self.integration_key}:{self._secret_key}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        try:
            response = await self._http.post(f"{self.base_url}/oauth/token", data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientDocuSignError(f"the DocuSign account server did not answer ({type(exc).__name__})",
                                         error_code="OAUTH_UNAVAILABLE") from None
        if response.status_code != 200:
            error = self._error(response)
            if isinstance(error, ConsentRequired) and consent_scopes:
                error.consent_url = self.consent_url(consent_scopes)
            raise error
        data = response.json()
        return TokenResponse(access_token=str(data["access_token"]), expires_in=int(data.get("expires_in") or 3600),
                             refresh_token=data.get("refresh_token"), scope=data.get("scope"),
                             token_type=str(data.get("token_type") or "Bearer"))

    def consent_url(self, scopes: str) -> str:
        """Where a person grants the JWT grant's consent (DocuSign's individual-consent link)."""
        params = {"response_type": "code", "scope": scopes, "client_id": self.integration_key}
        if self.redirect_uri:
            params["redirect_uri"] = self.redirect_uri
        return f"{self.base_url}/oauth/auth?{urlencode(params)}"

    @staticmethod
    def _error(response: httpx.Response) -> DocuSignError:
        code, description = parse_error_body(response.content)
        trace = response.headers.get("X-DocuSign-TraceToken")
        status = response.status_code
        if status >= 500 or status == 429:
            return TransientDocuSignError(description or f"HTTP {status} from the account server", status=status,
                                          error_code=code, trace_token=trace)
        if code == "consent_required":
            return ConsentRequired(description or "consent required", status=status, trace_token=trace)
        if code == "invalid_grant":
            return InvalidGrant(description or "invalid grant", status=status, trace_token=trace)
        return OAuthError(description or f"HTTP {status} from the account server", status=status,
                          error_code=code or "oauth_error", trace_token=trace)
