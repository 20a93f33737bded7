"""Shared fixtures for the emulator tests: a real uvicorn server per session, a Connect listener, SDK clients.

Everything talks over loopback HTTP, exactly as the client layer will.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from docusign_esign import ApiClient
from fastapi import FastAPI, Request, Response

from emulator.runtime import Emulator
from emulator.standalone import build_standalone_app
from tests.servers import ServerThread
from tests.servers import wait_until as wait_for  # noqa: F401 - re-exported for the emulator tests


@dataclass
class Emu:
    url: str  # server origin
    emulator: Emulator
    http: httpx.Client

    @property
    def root(self) -> str:
        return f"{self.url}/_emulator"

    @property
    def rest_host(self) -> str:
        return f"{self.root}/restapi"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.request(method, f"{self.root}{path}", json=body)


def generate_rsa() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def jwt_assertion(
    private_pem: bytes,
    integration_key: str,
    user_id: str,
    audience: str,
    *,
    ttl: int = 600,
    scope: str = "signature impersonation",
) -> str:
    now = int(time.time())
    claims = {
        "iss": integration_key,
        "sub": user_id,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "scope": scope,
    }
    return jwt.encode(claims, private_pem, algorithm="RS256")


@dataclass
class Integration:
    key: str
    secret: str
    private_pem: bytes
    public_pem: str


@dataclass
class Session:
    """One emulator user with a valid access token and an SDK client pointed at the emulator."""

    user_id: str
    account_id: str
    email: str
    token: str
    api_client: ApiClient
    emu: Emu

    def rest(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.emu.http.request(
            method, f"{self.emu.rest_host}/v2.1/accounts/{self.account_id}{path}", headers=headers, **kwargs
        )


def register_integration(
    emu: Emu, *, auto_consent: bool = False, redirect_uris: list[str] | None = None
) -> Integration:
    private, public = generate_rsa()
    key, secret = str(uuid.uuid4()), uuid.uuid4().hex
    resp = emu.control(
        "POST",
        "/integrations",
        {
            "integration_key": key,
            "secret_key": secret,
            "public_key_pem": public,
            "redirect_uris": redirect_uris or ["http://127.0.0.1:9/callback"],
            "auto_consent": auto_consent,
        },
    )
    assert resp.status_code == 201, resp.text
    return Integration(key, secret, private, public)


def oauth_audience(emu: Emu) -> str:
    return emu.root.split("://", 1)[1]


def jwt_token(emu: Emu, integ: Integration, user_id: str) -> httpx.Response:
    assertion = jwt_assertion(integ.private_pem, integ.key, user_id, oauth_audience(emu))
    return emu.http.post(
        f"{emu.root}/oauth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )


def new_session(emu: Emu, integ: Integration, name: str = "Test Sender") -> Session:
    email = f"sender-{uuid.uuid4().hex[:8]}@example.com"
    user = emu.control("POST", "/users", {"email": email, "name": name}).json()
    assert (
        emu.control(
            "POST", "/consent", {"integration_key": integ.key, "user_id": user["user_id"]}
        ).status_code
        == 200
    )
    resp = jwt_token(emu, integ, user["user_id"])
    assert resp.status_code == 200, resp.text
    token = resp.json()["access_token"]
    client = ApiClient(host=emu.rest_host)
    client.set_default_header("Authorization", f"Bearer {token}")
    return Session(user["user_id"], user["account_id"], email, token, client, emu)


def hmac_b64(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Listener:
    url: str
    received: list[Received] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # path -> how many 500s to answer first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, name: str = "hook") -> str:
        return f"{self.url}/{name}"

    def for_envelope(self, envelope_id: str, path: str | None = None) -> list[Received]:
        import json

        with self.lock:
            items = list(self.received)
        return [
            r
            for r in items
            if json.loads(r.body)["data"]["envelopeId"] == envelope_id and (path is None or r.path == path)
        ]


def build_listener_app(listener: Listener) -> FastAPI:
    app = FastAPI()

    @app.post("/{name}")
    async def receive(name: str, request: Request) -> Response:
        body = await request.body()
        with listener.lock:
            if listener.fail_next.get(name, 0) > 0:
                listener.fail_next[name] -= 1
                return Response(status_code=500)
            listener.received.append(Received(dict(request.headers), body, name))
        return Response(status_code=200)

    return app


@pytest.fixture(scope="session")
def emu() -> Iterator[Emu]:
    app = build_standalone_app()
    with ServerThread(app) as server, httpx.Client(timeout=30) as http:
        yield Emu(server.url, app.state.emulator, http)


@pytest.fixture(scope="session")
def integration(emu: Emu) -> Integration:
    return register_integration(emu)


@pytest.fixture()
def session(emu: Emu, integration: Integration) -> Session:
    return new_session(emu, integration)


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    holder = Listener(url="")
    server = ServerThread(build_listener_app(holder))
    holder.url = server.url
    with server:
        yield holder


@pytest.fixture()
def clean_knobs(emu: Emu) -> Iterator[None]:
    """Restore the defaults after tests that turn knobs or inject faults."""
    yield
    emu.control("DELETE", "/faults")
    emu.control(
        "POST",
        "/config",
        {
            "rate_limit_per_hour": 3000,
            "burst_limit_per_30s": 500,
            "answer_429": False,
            "connect_duplicate_rate": 0.0,
            "connect_shuffle": False,
            "connect_max_retries": 45,
            "connect_retry_base_seconds": 15.0,
            "connect_retry_window_seconds": 7 * 86400.0,
            "access_token_ttl_seconds": 3600,
        },
    )


def pdf_base64(text: str) -> str:
    from emulator.pdf import render_document

    return base64.b64encode(
        render_document("Test Agreement", text.split("\n\n"), [("Signer", "/sig1/")])
    ).decode()


def temp_snapshot(tmp: Path) -> Path:
    return tmp / "emulator-snapshot.json"
