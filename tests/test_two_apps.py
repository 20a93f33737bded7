"""Two apps in one process, each with its own database and settings, serving agent runs at the same time.

Every run gets its dependencies from the app that executes it (the run context), so nothing is installed in a
module for the other app to find: no save-and-restore of globals, and each app's tool calls land in its own
database, audited for its own user.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import psycopg
from langgraph_sdk import get_client

from api.app import create_app
from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.api_helpers import runtime_options
from tests.conftest import DatabaseFactory, role_urls
from tests.servers import free_port, serve


def _audited_users(url: str, operation: str) -> set[uuid.UUID]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT DISTINCT user_id FROM audit_log WHERE operation = %s AND status = 'succeeded'",
                            (operation,)).fetchall()
    return {row[0] for row in rows}


async def test_two_apps_in_one_process_each_run_with_their_own_dependencies(
        settings: Settings, db_factories: dict[str, DatabaseFactory], main_backend: str, tmp_path: Any) -> None:
    apps = []
    for name in ("one", "two"):
        url = db_factories[main_backend].create()
        port = free_port()
        app_settings = settings.model_copy(update={
            "database_url": url, "port": port, "host": "127.0.0.1", "public_url": None,
            "data_dir": tmp_path / name, "auth_jwt_secret": f"{name}-" + secrets.token_hex(16)})
        apps.append((name, url, port, app_settings, create_app(app_settings, role_urls(url),
                                                               runtime_options=runtime_options())))

    async def conversations(url: str, port: int, app_settings: Settings, base: str) -> uuid.UUID:
        user = uuid.uuid4()
        token = issue_token(app_settings, user, f"two-apps-{user.hex[:6]}@example.com")
        client = get_client(url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        for _ in range(2):
            thread = await client.threads.create()
            state = await client.runs.wait(thread["thread_id"], "agent", input={
                "messages": [{"type": "human", "content": "what templates do I have"}]})
            assert "Mutual NDA" in state["messages"][-1]["content"], state["messages"][-1]
        return user

    (_, url_one, port_one, settings_one, app_one), (_, url_two, port_two, settings_two, app_two) = apps
    async with serve(app_one, port_one) as base_one, serve(app_two, port_two) as base_two:
        user_one, user_two = await asyncio.gather(conversations(url_one, port_one, settings_one, base_one),
                                                  conversations(url_two, port_two, settings_two, base_two))
        # Each app's token is worthless on the other (their settings differ), and each app's data is its own.
        other = get_client(url=base_two, headers={
            "Authorization": f"Bearer {issue_token(settings_one, user_one, 'x@example.com')}"}, timeout=30)
        try:
            await other.threads.search()
            raise AssertionError("app two accepted app one's token")
        except Exception as exc:  # noqa: BLE001 - the SDK raises httpx.HTTPStatusError
            assert getattr(getattr(exc, "response", None), "status_code", None) == 401, exc
    assert _audited_users(url_one, "list_templates") == {user_one}
    assert _audited_users(url_two, "list_templates") == {user_two}
