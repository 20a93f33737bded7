"""Shared pieces of the DocuSign client tests: the emulator on its own port, users, PDFs, OAuth dances.

The emulator runs as a real HTTP server (`tests.servers.ServerThread`: uvicorn in a thread with its own event
loop) because the SDK is a blocking urllib3 client and OAuth goes over httpx: the client layer is exercised
exactly as against DocuSign.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from db import profiles
from db.session import Database
from emulator.standalone import build_standalone_app
from emulator.state import EmulatorState
from tests.servers import ServerThread

REDIS_URL = os.environ.get("REDIS_URL")


@dataclass
class EmulatorServer:
    app: FastAPI
    root: str  # http://127.0.0.1:PORT

    @property
    def url(self) -> str:
        """The emulator's root as the product sees it (`settings.base_url + "/_emulator"`)."""
        return self.root + "/_emulator"

    @property
    def state(self) -> EmulatorState:
        return self.app.state.emulator.state  # type: ignore[no-any-return]

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, self.url + path, json=body, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def envelopes_with_request_id(self, request_id: str) -> list[str]:
        return [e.envelope_id for e in list(self.state.envelopes.values())
                if any(f["name"] == "dsa_request_id" and f.get("value") == request_id for f in e.text_custom_fields)]


@contextmanager
def run_emulator() -> Iterator[EmulatorServer]:
    """A fresh, empty emulator on a free loopback port, for as long as the block runs."""
    app = build_standalone_app()
    with ServerThread(app) as server:
        yield EmulatorServer(app=app, root=server.url)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator() as server:
        yield server


async def new_user(database: Database, email: str | None = None) -> uuid.UUID:
    email = email or f"signer-{uuid.uuid4().hex[:8]}@example.com"
    async with database.owner_session() as session:
        return await profiles.ensure_profile_by_email(session, email, "Test Sender")


def make_pdf(title: str, anchors: tuple[str, ...] = ("/sn1/",)) -> bytes:
    """A small real PDF with signature anchors, like a person's upload."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter)
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 720, title)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 690, "The parties agree to the terms set out in this short test agreement.")
    for i, anchor in enumerate(anchors):
        pdf.drawString(72, 600 - 60 * i, f"Signature: {anchor}")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


class RequestCounter:
    """An httpx event hook counting OAuth token requests (how many refreshes really reached the server)."""

    def __init__(self) -> None:
        self.token_requests = 0

    async def __call__(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/oauth/token"):
            self.token_requests += 1

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=30, event_hooks={"request": [self]})


async def authorization_code(authorization_url: str) -> tuple[str, str]:
    """Follow the emulator's consent page (auto-approved with login_hint) to the redirect; return (code, state)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(authorization_url)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0], query.get("state", [""])[0]


def cache_backends() -> list[str]:
    """Redis when REDIS_URL is set (CI sets it), the in-process cache always: like conftest's `backends()`."""
    return ["memory", "redis"] if REDIS_URL else ["memory"]
