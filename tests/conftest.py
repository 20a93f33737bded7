"""Shared fixtures: real Postgres databases (the machine's via TEST_DATABASE_URL, and the embedded server).

Every test database is created for the session and dropped at the end. Without TEST_DATABASE_URL the embedded
server is the only backend, so `uv run pytest` passes on a machine with no Postgres at all.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from db import migrate
from db.embedded import start_embedded
from db.session import Database, DatabaseUrls
from db.urls import APP_ROLE, RUNS_ROLE, WEBHOOK_ROLE, with_database, with_user
from docusign_agent.settings import Settings, load_settings

MACHINE_URL = os.environ.get("TEST_DATABASE_URL")
# A test process starts hundreds of apps: freezing the collector's view at each start would keep every earlier
# app's cycles for good. Servers the tests start as processes inherit this too; tests/test_gc_tuning.py turns
# both on for its own app.
os.environ.setdefault("GC_FREEZE_AFTER_STARTUP", "false")
os.environ.setdefault("GC_GEN0_THRESHOLD", "0")

# Fixture modules shared by several suites (loaded here so their asserts are rewritten and loaded once).
pytest_plugins = ["emulator_helpers", "agent_helpers"]


@pytest.fixture(scope="session")
def embedded_admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = start_embedded(tmp_path_factory.mktemp("embedded-pg"), "postgres")
    return url


def backends() -> list[str]:
    return ["machine", "embedded"] if MACHINE_URL else ["embedded"]


@pytest.fixture(scope="session")
def admin_urls(request: pytest.FixtureRequest) -> dict[str, str]:
    urls = {}
    if MACHINE_URL:
        urls["machine"] = MACHINE_URL
    urls["embedded"] = request.getfixturevalue("embedded_admin_url")
    return urls


class DatabaseFactory:
    """Creates uniquely named databases on a server and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self, *, migrated: bool = True) -> str:
        name = f"dsa_test_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        url = with_database(self.admin_url, name)
        if migrated:
            migrate.upgrade(url)
            migrate.setup_checkpoints(url)
        return url

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def db_factories(admin_urls: dict[str, str]) -> Iterator[dict[str, DatabaseFactory]]:
    factories = {name: DatabaseFactory(url) for name, url in admin_urls.items()}
    yield factories
    for factory in factories.values():
        factory.drop_all()


@pytest.fixture(scope="session")
def main_backend() -> str:
    """The backend the product-level suites run on: the machine's Postgres in CI, else the embedded one."""
    return "machine" if MACHINE_URL else "embedded"


def role_urls(owner_url: str) -> DatabaseUrls:
    return DatabaseUrls(owner=owner_url, app=with_user(owner_url, APP_ROLE, None),
                        webhook=with_user(owner_url, WEBHOOK_ROLE, None), runs=with_user(owner_url, RUNS_ROLE, None))


@pytest.fixture(scope="session")
def owner_url(db_factories: dict[str, DatabaseFactory], main_backend: str) -> str:
    """One migrated database for the session's product-level tests."""
    return db_factories[main_backend].create()


@pytest.fixture(scope="session")
def settings(owner_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    # Small pools: a server process opens about 5 * DB_POOL_SIZE connections (README), the suite runs several
    # at once, and the machine's Postgres is shared with other suites (max_connections is 100 by default).
    return load_settings(
        database_url=owner_url,
        data_dir=data_dir,
        db_pool_size=4,
        auth_jwt_secret="test-secret-" + secrets.token_hex(16),
        redis_url=os.environ.get("REDIS_URL"),
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def database(owner_url: str) -> AsyncIterator[Database]:
    db = Database(role_urls(owner_url), pool_size=5)
    yield db
    await db.dispose()


@asynccontextmanager
async def running_app(app):  # type: ignore[no-untyped-def]
    """Run a FastAPI app's lifespan around an in-process httpx client."""
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@example.com"


REPO = Path(__file__).resolve().parents[1]
