"""`docusign-agent webhooks list|replay|discard` and `docusign-agent connect setup`."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from cli.common import fail, out, settings_or_exit, with_database
from db import profiles
from db.session import Database
from docusign_agent.secrets import connect_hmac_keys
from docusign_client.clients import DocuSignClients
from docusign_client.connect import configure_connect, configure_emulator_connect
from runtime.webhooks import admin

webhooks_app = typer.Typer(no_args_is_help=True, help="Stored DocuSign Connect events: list, replay, discard.")
connect_app = typer.Typer(no_args_is_help=True, help="The DocuSign Connect configuration that feeds the mirror.")


@webhooks_app.command("list")
def webhooks_list(
    status: Annotated[list[str] | None, typer.Option(help="failed, parked, unmatched (default: all three), "
                                                          "pending, applied, duplicate, discarded")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List events that need attention: failed (cannot be applied), parked (out of retries), unmatched."""
    statuses = tuple(status) if status else admin.ATTENTION
    unknown = [s for s in statuses if s not in admin.ALL]
    if unknown:
        fail(f"--status: {', '.join(unknown)} is not one of {', '.join(admin.ALL)}", 2)
    settings = settings_or_exit()

    async def work(database: Database) -> tuple[list[dict[str, Any]], dict[str, int]]:
        async with database.webhook_session() as session:
            return await admin.list_events(session, statuses, limit), await admin.counts(session)

    rows, totals = with_database(settings, work)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
        return
    out.print("events: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "none"), highlight=False)
    if not rows:
        out.print(f"nothing {'/'.join(statuses)}", highlight=False)
        return
    for row in rows:
        error = (row["last_error"] or "").replace("\n", " ")
        out.print(f"{row['id']:>8}  {row['status']:<9}  {row['event'] or '-':<22}  {row['envelope_id'] or '-':<36}  "
                  f"attempts {row['attempts']}  deliveries {row['deliveries']}  {row['received_at']:%Y-%m-%d %H:%M:%S}"
                  f"\n          {error[:200]}", highlight=False, soft_wrap=True)


def _administer(event_id: int, change: Callable[[AsyncSession, int], Awaitable[str | None]]) -> str:
    """Apply `change` to one stored event as the webhook role; its previous status (a missing event fails)."""
    settings = settings_or_exit()

    async def work(database: Database) -> str | None:
        async with database.webhook_session() as session:
            return await change(session, event_id)

    previous = with_database(settings, work)
    if previous is None:
        fail(f"no webhook event {event_id}")
    return previous


@webhooks_app.command("replay")
def webhooks_replay(event_id: Annotated[int, typer.Argument(help="The event id shown by `webhooks list`")]) -> None:
    """Queue a failed, parked, unmatched or discarded event again (attempts reset); a running server applies it."""
    previous = _administer(event_id, admin.replay)
    if previous not in admin.REPLAYABLE:
        fail(f"webhook event {event_id} is {previous}; only {', '.join(admin.REPLAYABLE)} events are replayed")
    out.print(f"webhook event {event_id} queued again (was {previous})", highlight=False)


@webhooks_app.command("discard")
def webhooks_discard(event_id: Annotated[int, typer.Argument(help="The event id shown by `webhooks list`")]) -> None:
    """Stop retrying an event and take it off the list; the row and its raw body are kept."""
    previous = _administer(event_id, admin.discard)
    if previous not in admin.DISCARDABLE:
        fail(f"webhook event {event_id} is {previous}; there is nothing to discard")
    out.print(f"webhook event {event_id} discarded (was {previous})", highlight=False)


@connect_app.command("setup")
def connect_setup(
    url: Annotated[str, typer.Option("--url", help="Public URL of this server's Connect listener, "
                                                   "e.g. https://agent.example.com/webhooks/docusign")],
    user: Annotated[str | None, typer.Option("--user", help="Email of the user whose DocuSign account to "
                                                            "configure (default: the local user)")] = None,
) -> None:
    """Create or update the account's Connect configuration so DocuSign delivers to URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail("--url: must be an absolute http(s) URL", 2)
    settings = settings_or_exit()

    async def work(database: Database) -> dict[str, Any]:
        user_id = await profiles.ensure_user(database, user or profiles.LOCAL_USER_EMAIL)
        clients = await asyncio.to_thread(DocuSignClients, settings, database)
        try:
            client = await clients.for_user(user_id)
            if settings.docusign_is_real:
                return await configure_connect(client, url)
            return await configure_emulator_connect(client, emulator_url=str(clients.emulator_url), url=url,
                                                    hmac_keys=await asyncio.to_thread(connect_hmac_keys, settings))
        finally:
            await clients.aclose()

    try:
        result = with_database(settings, work)
    except Exception as exc:  # noqa: BLE001 - one line for a person, not a traceback
        fail(f"Connect setup failed: {type(exc).__name__}: {exc}")
    out.print(f"Connect configuration {result['connect_id']} {result['action']}: deliveries go to {result['url']}",
              highlight=False)
    if settings.docusign_is_real:
        out.print("Deliveries are signed with HMAC: in DocuSign eSignature Settings > Connect > Connect Keys, add a "
                  "key and put it in DOCUSIGN_CONNECT_HMAC_KEYS (comma-separated; keep the old key listed while "
                  "rotating).", highlight=False, soft_wrap=True)
