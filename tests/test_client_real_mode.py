"""Real-DocuSign configuration (DOCUSIGN_INTEGRATION_KEY + DOCUSIGN_OAUTH_BASE_URL), with the emulator standing in
for DocuSign's account server: the service user's JWT grant, consent errors, and auth-code-only deployments."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from db.session import Database
from docusign_agent.settings import Settings
from tests.client_helpers import EmulatorServer, emulator, new_user  # noqa: F401
from docusign_client import DocuSignClients, NotConnected
from docusign_client.errors import ConsentRequired
from docusign_client.retry import RetryPolicy


@pytest.fixture(scope="module")
def integration(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:  # noqa: F811
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("keys") / "docusign.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ik, secret = str(uuid.uuid4()), secrets.token_urlsafe(24)
    emulator.control("POST", "/integrations", {"integration_key": ik, "secret_key": secret, "public_key_pem": public,
                                               "redirect_uris": ["http://127.0.0.1:8123/auth/docusign/callback"],
                                               "auto_consent": False})
    yield {"integration_key": ik, "secret_key": secret, "key_path": str(path)}


def real_settings(settings: Settings, emulator: EmulatorServer, integration: dict[str, str],  # noqa: F811
                  **extra: object) -> Settings:
    values: dict[str, object] = {
        "docusign_integration_key": integration["integration_key"], "docusign_secret_key": integration["secret_key"],
        "docusign_oauth_base_url": emulator.url, "public_url": "http://127.0.0.1:8123", **extra}
    return settings.model_copy(update=values)


async def test_service_user_jwt_grant(settings: Settings, database: Database, emulator: EmulatorServer,  # noqa: F811
                                      integration: dict[str, str]) -> None:
    service = emulator.control("POST", "/users", {"email": f"svc-{uuid.uuid4().hex[:6]}@example.com",
                                                  "name": "Service User"})
    emulator.control("POST", "/consent", {"integration_key": integration["integration_key"],
                                          "user_id": service["user_id"]})
    real = real_settings(settings, emulator, integration, docusign_user_id=service["user_id"],
                         docusign_private_key_path=Path(integration["key_path"]))
    assert real.docusign_is_real
    registry = DocuSignClients(real, database, retry=RetryPolicy(max_retries=1, base_delay=0.01))
    try:
        assert registry.mode == "real" and registry.emulator_url is None
        client = await registry.for_user(await new_user(database))
        assert client.account_id == service["account_id"]
        assert len((await client.list_templates()).value.envelope_templates) == 3
    finally:
        await registry.aclose()


async def test_service_user_without_consent(settings: Settings, database: Database, emulator: EmulatorServer,  # noqa: F811
                                            integration: dict[str, str]) -> None:
    service = emulator.control("POST", "/users", {"email": f"noconsent-{uuid.uuid4().hex[:6]}@example.com"})
    real = real_settings(settings, emulator, integration, docusign_user_id=service["user_id"],
                         docusign_private_key_path=Path(integration["key_path"]))
    registry = DocuSignClients(real, database)
    try:
        with pytest.raises(ConsentRequired) as caught:
            await registry.for_user(await new_user(database))
    finally:
        await registry.aclose()
    assert caught.value.consent_url and caught.value.consent_url.startswith(emulator.url + "/oauth/auth?")
    assert integration["integration_key"] in caught.value.consent_url
    assert "consent" in caught.value.user_message


async def test_auth_code_only_deployment_says_connect(settings: Settings, database: Database,
                                                      emulator: EmulatorServer, integration: dict[str, str]) -> None:  # noqa: F811
    registry = DocuSignClients(real_settings(settings, emulator, integration), database)
    try:
        assert registry.provisioner is None
        with pytest.raises(NotConnected) as caught:
            await registry.for_user(await new_user(database))
    finally:
        await registry.aclose()
    assert caught.value.user_message == "DocuSign isn't connected yet; connect DocuSign at /auth/docusign/login."
