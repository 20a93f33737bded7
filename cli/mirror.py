"""`docusign-agent mirror sync`: reconcile the envelope mirror with DocuSign now (see runtime/webhooks/reconcile.py).

The states found are queued as events; a running server's Connect worker applies them (and its chat pages see
the changes live), as after `webhooks replay`. `--apply` applies them in this process instead, for when no server
is running.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.common import fail, out, settings_or_exit, with_database
from db.session import Database
from docusign_client.clients import DocuSignClients
from runtime.webhooks.reconcile import SyncResult
from runtime.webhooks.service import WebhookService
from runtime.webhooks.worker import WebhookWorker

mirror_app = typer.Typer(no_args_is_help=True, help="The mirror of DocuSign envelope state.")


@mirror_app.command("sync")
def mirror_sync(
    user: Annotated[str | None, typer.Option("--user", help="Email of one user to sync (default: every user "
                                                            "who has used DocuSign here)")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Apply the states here rather than in a running "
                                                        "server")] = False,
) -> None:
    """Ask DocuSign for status changes since the last sync and repair the mirror (within DocuSign's polling
    limit: one poll per user per 15 minutes)."""
    settings = settings_or_exit()

    async def work(database: Database) -> tuple[list[SyncResult], int]:
        clients = await asyncio.to_thread(DocuSignClients, settings, database,
                                          emulator_url=settings.docusign_emulator_url)
        service = await asyncio.to_thread(WebhookService, settings, database, docusign=clients, worker=False)
        try:
            async with service:
                assert service.sync is not None and service.pool is not None
                results = await service.sync.sync_all(user)
                applied = 0
                if apply:
                    applied = await WebhookWorker(service.pool, fetch_envelope=service.fetch_envelope,
                                                  invalidate=clients.invalidate).drain()
                else:
                    await service.wake_workers()
                return results, applied
        finally:
            await clients.aclose()

    try:
        results, applied = with_database(settings, work)
    except Exception as exc:  # noqa: BLE001 - one line for a person, not a traceback
        fail(f"mirror sync failed: {type(exc).__name__}: {exc}")
    if not results:
        out.print("no user has used DocuSign here yet: nothing to sync" if user is None
                  else f"--user: no user {user} who has used DocuSign here", highlight=False)
        if user is not None:
            raise typer.Exit(1)
        return
    failed = False
    for r in results:
        if r.error:
            failed = True
            out.print(f"{r.user_id}: DocuSign did not answer ({r.error}); the next sync asks again", highlight=False)
        elif not r.polled:
            out.print(f"{r.user_id}: polled less than the polling limit ago; next sync allowed at "
                      f"{r.next_poll_at:%Y-%m-%d %H:%M:%S %Z}", highlight=False)
        else:
            out.print(f"{r.user_id}: {r.envelopes} envelope state(s) changed since {r.from_date:%Y-%m-%d %H:%M:%S %Z},"
                      f" {r.new} not seen before", highlight=False)
    new = sum(r.new for r in results)
    if apply:
        out.print(f"{applied} event(s) applied to the mirror", highlight=False)
    elif new:
        out.print(f"{new} new state(s) queued: a running server applies them", highlight=False)
    if failed:
        raise typer.Exit(1)
