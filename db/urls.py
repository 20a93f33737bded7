"""Connection URLs for the four database roles.

The owner URL (DATABASE_URL, or the embedded server) runs migrations. The app, webhook and run-worker roles get
their own connections, derived from the owner's by swapping the user, so that one setting is enough on a trust-auth or
socket server and production can still give each role its own URL.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

APP_ROLE = "dsa_app"
WEBHOOK_ROLE = "dsa_webhook"
RUNS_ROLE = "dsa_runs"


def with_user(url: str, user: str, password: str | None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def driver_url(url: str, driver: str) -> str:
    """`postgresql+asyncpg://...` for SQLAlchemy, `postgresql://...` for psycopg and libpq tools."""
    parts = urlsplit(url)
    scheme = "postgresql" if driver == "libpq" else f"postgresql+{driver}"
    return urlunsplit(parts._replace(scheme=scheme))


def mask_url(url: str) -> str:
    """A connection URL fit for a log line or an error message: the password replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
