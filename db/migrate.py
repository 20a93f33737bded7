"""Schema migrations (Alembic, as the owner) and the LangGraph checkpoint tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from db.urls import driver_url

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(owner_url: str) -> Config:
    config = Config(str(INI))
    config.attributes["url"] = driver_url(owner_url, "psycopg")
    return config


def upgrade(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def check(owner_url: str) -> None:
    """Raise if the models and the migrated schema disagree (alembic check)."""
    command.check(alembic_config(owner_url))
