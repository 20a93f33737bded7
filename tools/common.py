"""Small pieces the tool modules share: the user's DocuSign client, preferences, envelope views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from db.models import UserPreferences
from docusign_agent.envelope_rules import is_terminal
from docusign_client.client import DocuSignClient
from tools.context import ToolContext


async def docusign(ctx: ToolContext) -> DocuSignClient:
    return await ctx.client()


async def preferences(ctx: ToolContext) -> UserPreferences:
    async with ctx.database.user_session(ctx.user_id) as session:
        prefs = (await session.execute(select(UserPreferences).where(UserPreferences.user_id == ctx.user_id))).scalar_one_or_none()
    return prefs or UserPreferences(user_id=ctx.user_id, tone="friendly", verbosity="normal", confirm_reminders=True,
                                    default_signing_order="parallel", theme="system")


def recipient_rows(recipients: Any) -> list[dict[str, Any]]:
    """SDK Recipients → a flat list across recipient types, in routing order."""
    rows: list[dict[str, Any]] = []
    if recipients is None:
        return rows
    for kind, attr in (("signer", "signers"), ("carbon_copy", "carbon_copies"),
                       ("certified_delivery", "certified_deliveries"), ("in_person_signer", "in_person_signers")):
        for r in getattr(recipients, attr, None) or []:
            rows.append({
                "recipientId": r.recipient_id, "type": kind, "name": r.name, "email": r.email,
                "status": r.status, "routingOrder": int(r.routing_order or 1),
                "signedDateTime": getattr(r, "signed_date_time", None),
                "deliveredDateTime": getattr(r, "delivered_date_time", None),
                "declinedReason": getattr(r, "declined_reason", None),
                "embedded": bool(getattr(r, "client_user_id", None)),
            })
    rows.sort(key=lambda r: (r["routingOrder"], str(r["recipientId"])))
    return rows


def holding_up(status: str, recipients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who the envelope is waiting on: unsigned signers at the lowest routing order still open."""
    if is_terminal(status) or status == "created":
        return []
    open_signers = [r for r in recipients if r["type"] in ("signer", "in_person_signer")
                    and (r["status"] or "").lower() in ("sent", "delivered", "created")]
    if not open_signers:
        return []
    current = min(r["routingOrder"] for r in open_signers)
    return [r for r in open_signers if r["routingOrder"] == current]


def who(r: dict[str, Any]) -> str:
    return f"{r['name']} ({r['email']})" if r.get("name") else str(r.get("email"))


def ago(moment: dt.datetime | None) -> str:
    if moment is None:
        return "at an unknown time"
    seconds = max(0, int((dt.datetime.now(dt.UTC) - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} seconds ago"
    if seconds < 3600:
        return f"{seconds // 60} minutes ago"
    if seconds < 86400:
        return f"{seconds // 3600} hours ago"
    return f"{seconds // 86400} days ago"
