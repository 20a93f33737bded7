"""The official `mcp` client against our `/mcp` over streamable HTTP, with a person's token or API key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from mcp.client.session import ElicitationFnT
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from docusign_agent.settings import Settings
from emulator.standalone import build_standalone_app
from tests.api_helpers import ApiServer, ServerThread, role_urls, runtime_options
from tests.servers import free_port


@pytest.fixture(scope="module")
def mcp_server(settings: Settings) -> Iterator[ApiServer]:
    """The whole app on a free port, DocuSign being the emulator on its own loopback port."""
    from api.app import create_app

    with ServerThread(build_standalone_app()) as emulator:
        port = free_port()
        configured = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}",
                                                 "docusign_emulator_url": emulator.url + "/_emulator"})
        app = create_app(configured, role_urls(settings.database_url),  # type: ignore[arg-type]
                         runtime_options=runtime_options())
        with ServerThread(app, port) as server:
            yield ApiServer(url=server.url, settings=configured)


@asynccontextmanager
async def mcp_client(server: ApiServer, name: str | None = "alice", *, headers: dict[str, str] | None = None,
                     elicitation: ElicitationFnT | None = None, mode: str = "auto") -> AsyncIterator[Client]:
    """A connected client: `mode` "auto" speaks the 2026 protocol with our server, "legacy" the 2025 handshake."""
    auth = server.headers(name) if name else {}
    async with create_mcp_http_client(headers={**auth, **(headers or {})}) as http:
        transport = streamable_http_client(server.url + "/mcp", http_client=http)
        async with Client(transport, mode=mode, elicitation_callback=elicitation) as client:
            yield client


def payload(result: Any) -> dict[str, Any]:
    """The tool's JSON payload, read from the text the model would read (and checked against the structure)."""
    data = json.loads(result.content[0].text)
    assert result.structured_content == data
    return data  # type: ignore[no-any-return]
