"""Embedded signing: a link that opens DocuSign's signing session for one recipient."""

from __future__ import annotations

from typing import Any

from docusign_esign import RecipientViewRequest
from sqlalchemy import select, update

from db.models import Envelope, Recipient
from tools.base import ToolSpec
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import SigningLinkArgs


async def create_signing_link(ctx: ToolContext, args: SigningLinkArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    recipients = (await client.list_recipients(args.envelope_id)).value
    match = next((s for s in recipients.signers or [] if s.recipient_id == args.recipient
                  or (s.email or "").lower() == args.recipient.lower()), None)
    if match is None:
        raise ToolFailure("unknown_recipient", f"recipient: nobody with id or email {args.recipient!r} signs "
                          f"envelope {args.envelope_id}.", field="recipient")
    if not match.client_user_id:
        raise ToolFailure("not_embedded", f"{match.name} ({match.email}) signs by email, not in the app, so DocuSign "
                          "gives no signing link for them; send them a reminder instead.", field="recipient")
    return_url = args.return_url or f"{ctx.settings.base_url}/signing-complete"
    created = await client.create_recipient_view(args.envelope_id, RecipientViewRequest(
        authentication_method="none", client_user_id=match.client_user_id, email=match.email,
        user_name=match.name, recipient_id=match.recipient_id, return_url=return_url,
    ))
    view = created.value
    async with ctx.database.user_session(ctx.user_id) as session:
        envelope_pk = select(Envelope.id).where(Envelope.envelope_id == args.envelope_id).scalar_subquery()
        await session.execute(
            update(Recipient)
            .where(Recipient.recipient_id == match.recipient_id, Recipient.envelope_pk == envelope_pk)
            .values(signing_url=view.url)
        )
    return ok(f"Here is the signing link for {match.name} ({match.email}). It works once and expires in a few "
              "minutes.", envelope_id=args.envelope_id, url=view.url, _trace_token=created.trace_token)


SPECS = [
    ToolSpec("create_signing_link", "Create an embedded signing link for a recipient who signs inside the app.",
             SigningLinkArgs, create_signing_link, docusign_call="POST envelopes/{id}/views/recipient",
             effect="write"),
]
