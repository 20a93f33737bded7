"""Connecting a product user to DocuSign: by the emulator, by a service user's JWT grant, or by the OAuth code.

* Emulator mode (no real DocuSign configured): the product acts as an integration registered with the emulator,
  exactly as it would be with DocuSign: an RSA key pair and a client secret are generated once into
  `DATA_DIR/secrets` (mode 0600), the public key is registered with `POST /_emulator/integrations`, and on a
  user's first DocuSign call their emulator user is created from the profile email, consent is granted, and the
  real JWT grant runs. So the emulator exercises the same token code as production.
* Real mode with DOCUSIGN_USER_ID and a private key: every product user acts through that service user
  (JWT grant, impersonation scope; DocuSign consent granted once by an admin).
* Real mode with only the authorization-code flow: a user without credentials gets `NotConnected`, which tells
  them to connect at /auth/docusign/login (see `api/docusign_auth.py`, which ends in `store_connection`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, select, update

from db import credentials
from db.credentials import Tokens
from db.crypto import TokenCipher
from db.models import ApiCredential, Profile
from db.session import Database
from docusign_agent.secrets import data_dir_secret, generated_secret
from docusign_agent.settings import Settings
from docusign_client.errors import DocuSignError, TransientDocuSignError
from docusign_client.oauth import OAuthClient, TokenResponse, UserInfo

log = logging.getLogger(__name__)

CALLBACK_PATH = "/auth/docusign/callback"


@dataclass(frozen=True)
class IntegrationSecrets:
    integration_key: str
    secret_key: str = field(repr=False)
    private_key_pem: str = field(repr=False)

    @property
    def public_key_pem(self) -> str:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def emulator_integration(settings: Settings) -> IntegrationSecrets:
    """This installation's integration with its emulator; stable across restarts, never in the repository."""
    return IntegrationSecrets(
        integration_key=data_dir_secret(settings.data_dir, "docusign_emulator_integration_key", lambda: str(uuid.uuid4())),
        secret_key=generated_secret(settings, "docusign_emulator_secret_key"),
        private_key_pem=data_dir_secret(settings.data_dir, "docusign_emulator_rsa.pem", _new_private_key_pem),
    )


def redirect_uri(settings: Settings) -> str:
    return settings.docusign_redirect_uri or settings.base_url + CALLBACK_PATH


def tokens_from_grant(user_id: uuid.UUID, answer: TokenResponse, info: UserInfo, grant_type: str) -> Tokens:
    account = info.default_account()
    return Tokens(user_id=user_id, account_id=account.account_id, docusign_user_id=info.sub,
                  base_uri=account.base_uri, grant_type=grant_type, access_token=answer.access_token,
                  refresh_token=answer.refresh_token, expires_at=answer.expires_at(),
                  scopes=tuple((answer.scope or "").split()), status="active")


async def store_connection(database: Database, cipher: TokenCipher, tokens: Tokens) -> None:
    """Save the encrypted credentials and record the DocuSign identity on the profile, in one transaction.

    A person has one DocuSign connection here (the profile names one account), so rows for any other account
    (an earlier connection, an emulator that restarted empty) are removed rather than left to go stale.
    """
    async with database.user_session(tokens.user_id) as session:
        await credentials.save(session, cipher, tokens)
        await session.execute(delete(ApiCredential).where(ApiCredential.user_id == tokens.user_id,
                                                          ApiCredential.account_id != tokens.account_id))
        await session.execute(update(Profile).where(Profile.id == tokens.user_id).values(
            docusign_user_id=tokens.docusign_user_id, docusign_account_id=tokens.account_id,
            updated_at=dt.datetime.now(dt.UTC)))


async def connect_with_jwt(database: Database, cipher: TokenCipher, oauth: OAuthClient, user_id: uuid.UUID,
                           docusign_user_id: str, scopes: str) -> Tokens:
    answer = await oauth.jwt_grant(docusign_user_id, scopes)
    info = await oauth.userinfo(answer.access_token)
    tokens = tokens_from_grant(user_id, answer, info, "jwt")
    await store_connection(database, cipher, tokens)
    return tokens


async def connect_with_code(database: Database, cipher: TokenCipher, oauth: OAuthClient, user_id: uuid.UUID,
                            code: str, redirect: str) -> Tokens:
    """The end of the authorization-code flow: exchange, look up the default account, store."""
    answer = await oauth.exchange_code(code, redirect)
    info = await oauth.userinfo(answer.access_token)
    tokens = tokens_from_grant(user_id, answer, info, "authorization_code")
    await store_connection(database, cipher, tokens)
    return tokens


class ServiceUserProvisioner:
    """Real DocuSign, DOCUSIGN_USER_ID configured: every user acts through that DocuSign user."""

    def __init__(self, database: Database, cipher: TokenCipher, oauth: OAuthClient, docusign_user_id: str,
                 scopes: str) -> None:
        self._db, self._cipher, self._oauth = database, cipher, oauth
        self._docusign_user_id, self._scopes = docusign_user_id, scopes

    async def provision(self, user_id: uuid.UUID) -> Tokens:
        return await connect_with_jwt(self._db, self._cipher, self._oauth, user_id, self._docusign_user_id,
                                      self._scopes)


class EmulatorProvisioner:
    """Emulator mode: register this installation's integration, then one emulator user per product user."""

    def __init__(self, database: Database, cipher: TokenCipher, oauth: OAuthClient, http: httpx.AsyncClient, *,
                 emulator_url: str, integration: IntegrationSecrets, redirect_uris: list[str], scopes: str) -> None:
        self._db, self._cipher, self._oauth, self._http = database, cipher, oauth, http
        self.emulator_url = emulator_url.rstrip("/")
        self._integration = integration
        self._redirect_uris = redirect_uris
        self._scopes = scopes
        self._registered = False
        self._register_lock = asyncio.Lock()

    async def ensure_integration(self) -> None:
        if self._registered:
            return
        async with self._register_lock:
            if self._registered:
                return
            await self._control("/integrations", {
                "integration_key": self._integration.integration_key, "secret_key": self._integration.secret_key,
                "public_key_pem": self._integration.public_key_pem, "redirect_uris": self._redirect_uris,
                "auto_consent": True})
            self._registered = True

    async def provision(self, user_id: uuid.UUID) -> Tokens:
        await self.ensure_integration()
        async with self._db.user_session(user_id) as session:
            profile = (await session.execute(select(Profile.email, Profile.display_name)
                                             .where(Profile.id == user_id))).one_or_none()
        if profile is None:
            raise DocuSignError(f"no profile for user {user_id}", error_code="NO_PROFILE")
        body = {"email": profile.email}
        if profile.display_name:
            body["name"] = profile.display_name
        emu_user = await self._control("/users", body)
        await self._control("/consent", {"integration_key": self._integration.integration_key,
                                         "user_id": emu_user["user_id"]})
        tokens = await connect_with_jwt(self._db, self._cipher, self._oauth, user_id, emu_user["user_id"],
                                        self._scopes)
        log.info("provisioned emulator DocuSign user for %s (account %s)", user_id, tokens.account_id)
        return tokens

    async def _control(self, path: str, body: dict[str, object]) -> dict[str, str]:
        try:
            response = await self._http.post(self.emulator_url + path, json=body)
        except httpx.HTTPError as exc:
            raise TransientDocuSignError(f"the DocuSign emulator at {self.emulator_url} did not answer "
                                         f"({type(exc).__name__})", error_code="EMULATOR_UNAVAILABLE") from None
        if response.status_code >= 300:
            raise DocuSignError(f"emulator {path} answered {response.status_code}: {response.text[:200]}",
                                status=response.status_code, error_code="EMULATOR_ERROR")
        return response.json()  # type: ignore[no-any-return]
