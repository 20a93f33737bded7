"""The product as `serve` runs it, for the chat page's tests: one port with the API, the chat UI, the mounted
emulator (Connect delivering to our own webhook) and the offline model; plus the browser, when there is one."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from api.app import create_app
from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.conftest import role_urls
from tests.servers import ServerThread, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ENABLE_HINT = "browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium"


@dataclass
class ProductServer:
    url: str
    settings: Settings
    app: Any = None
    users: dict[str, uuid.UUID] = field(default_factory=dict)

    def emulator_envelopes(self, email: str) -> list[Any]:
        """What DocuSign (the mounted emulator) holds for a recipient: the truth, whatever our mirror says."""
        mount = next(r for r in self.app.routes if getattr(r, "path", "") == "/_emulator")
        envelopes = list(mount.app.state.emulator.state.envelopes.values())
        return [e for e in envelopes if any((r.email or "").lower() == email.lower() for r in e.recipients)]

    def token(self, name: str) -> str:
        user = self.users.setdefault(name, uuid.uuid4())
        return issue_token(self.settings, user, f"{name}-{user.hex[:6]}@example.com")

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def client(self, name: str) -> Any:
        return get_client(url=self.url, headers=self.headers(name), timeout=60)

    def http(self, name: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers(name) if name else {}, timeout=60)

    def emulator(self) -> httpx.Client:
        """DocuSign's side of things, as the emulator's control API shows it (no user)."""
        return httpx.Client(base_url=f"{self.url}/_emulator", timeout=60)


@pytest.fixture(scope="module")
def product_server(settings: Settings) -> Iterator[ProductServer]:
    port = free_port()
    configured = settings.model_copy(update={"port": port, "host": "127.0.0.1", "public_url": None})
    app = create_app(configured, role_urls(str(settings.database_url)))
    with ServerThread(app, port=port) as server:
        yield ProductServer(url=server.url, settings=configured, app=app)


def browser_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium driven by Playwright. Without one the tests skip, saying how to enable them; in CI
    (DSA_REQUIRE_BROWSER=1) a missing browser fails instead.

    Module-scoped: Playwright's sync API runs an event loop on this thread while it is open, which the async
    tests of later modules must not find running."""
    if not browser_available():
        if os.environ.get("DSA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"DSA_REQUIRE_BROWSER=1 but there is no browser: {ENABLE_HINT}")
        pytest.skip(ENABLE_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM)
                                              else shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
