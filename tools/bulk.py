"""Bulk send: one template to many people, tracked in bulk_operations and bulk_recipients."""

from __future__ import annotations

import csv
import io
from typing import Any

from docusign_esign import BulkSendingCopy, BulkSendingCopyRecipient, BulkSendingList, BulkSendRequest
from pydantic import ValidationError
from sqlalchemy import or_, select

from db.models import BulkOperation, BulkRecipient
from docusign_client.errors import DocuSignError
from tools.base import ToolSpec, validation_failure
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import BulkRow, BulkSendArgs, BulkStatusArgs
from tools.templates import resolve_template

MAX_ROWS = 1000


def parse_rows(args: BulkSendArgs) -> list[BulkRow]:
    rows = list(args.rows)
    if args.csv:
        reader = csv.DictReader(io.StringIO(args.csv.strip()))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "email" not in header or "name" not in header:
            raise ToolFailure("invalid_argument", "csv: the first line must be a header with name and email "
                              "(and optionally role_name).", field="csv")
        for line, record in enumerate(reader, start=2):
            clean = {k.strip().lower(): (v or "").strip() for k, v in record.items() if k}
            try:
                rows.append(BulkRow(name=clean["name"], email=clean["email"], role_name=clean.get("role_name") or None))
            except ValidationError as exc:
                failure = validation_failure(exc)
                raise ToolFailure("invalid_argument", f"csv line {line}: {failure.message}", field="csv") from None
    if not rows:
        raise ToolFailure("invalid_argument", "rows or csv: give at least one recipient.", field="rows")
    if len(rows) > MAX_ROWS:
        raise ToolFailure("invalid_argument", f"rows: at most {MAX_ROWS} recipients per bulk send.", field="rows")
    seen: set[str] = set()
    for row in rows:
        if row.email.lower() in seen:
            raise ToolFailure("invalid_argument", f"rows: {row.email} appears twice.", field="rows")
        seen.add(row.email.lower())
    return rows


async def check_bulk_send(ctx: ToolContext, args: BulkSendArgs) -> dict[str, str]:
    """Before approval: the rows parse and the template has a signer role to fill."""
    rows = parse_rows(args)
    template = await resolve_template(await docusign(ctx), args.template)
    if not (template.recipients and template.recipients.signers):
        raise ToolFailure("invalid_template", f"template “{template.name}” has no signer role to fill.")
    return {"template": template.name, "count": str(len(rows)),
            "people": ", ".join(f"{r.name} <{r.email}>" for r in rows[:3]) + ("…" if len(rows) > 3 else "")}


async def bulk_send(ctx: ToolContext, args: BulkSendArgs) -> dict[str, Any]:
    rows = parse_rows(args)
    client = await docusign(ctx)
    template = await resolve_template(client, args.template)
    signer_roles = [s.role_name for s in (template.recipients.signers if template.recipients else None) or []]
    if not signer_roles:
        raise ToolFailure("invalid_template", f"template “{template.name}” has no signer role to fill.")
    batch_name = args.batch_name or f"{template.name} bulk send"
    async with ctx.database.user_session(ctx.user_id) as session:
        op = BulkOperation(user_id=ctx.user_id, batch_name=batch_name, template_id=template.template_id,
                           total=len(rows), queued=len(rows), status="sending")
        session.add(op)
        await session.flush()
        for i, row in enumerate(rows, start=1):
            session.add(BulkRecipient(operation_id=op.id, user_id=ctx.user_id, row_number=i, name=row.name,
                                      email=str(row.email), role_name=row.role_name or signer_roles[0]))
        op_id = op.id
    copies = [BulkSendingCopy(recipients=[BulkSendingCopyRecipient(
        role_name=row.role_name or signer_roles[0], name=row.name, email=str(row.email))]) for row in rows]
    list_id: str | None = None
    try:
        list_id = (await client.create_bulk_send_list(BulkSendingList(name=batch_name[:100],
                                                                      bulk_copies=copies))).value.list_id
        sent = await client.send_bulk(list_id, BulkSendRequest(envelope_or_template_id=template.template_id,
                                                               batch_name=batch_name[:100]))
    except Exception as exc:
        uncertain = isinstance(exc, DocuSignError) and exc.error_code == "BULK_SEND_UNCERTAIN"
        async with ctx.database.user_session(ctx.user_id) as session:
            op = await session.get(BulkOperation, op_id)
            if op is not None:
                op.bulk_list_id = list_id
                if uncertain:  # DocuSign may be mailing everyone: the operation stays `sending`, marked unknown
                    op.error = f"outcome unknown: {exc}"[:500]
                else:
                    op.status, op.error, op.failed, op.queued = "failed", str(exc)[:500], len(rows), 0
        raise
    response = sent.value
    async with ctx.database.user_session(ctx.user_id) as session:
        op = await session.get(BulkOperation, op_id)
        assert op is not None
        op.batch_id, op.bulk_list_id = response.batch_id, list_id
    return ok(f"Bulk send “{batch_name}” of “{template.name}” started for {len(rows)} recipient"
              f"{'s' if len(rows) != 1 else ''} (batch {response.batch_id}).", batch_id=response.batch_id,
              operation_id=str(op_id), total=len(rows), _trace_token=sent.trace_token)


async def get_bulk_send_status(ctx: ToolContext, args: BulkStatusArgs) -> dict[str, Any]:
    async with ctx.database.user_session(ctx.user_id) as session:
        op = (await session.execute(
            select(BulkOperation).where(or_(BulkOperation.batch_id == args.batch, BulkOperation.batch_name == args.batch))
            .order_by(BulkOperation.created_at.desc()).limit(1))).scalar_one_or_none()
    if op is None:
        raise ToolFailure("unknown_batch", f"batch: no bulk send called or numbered {args.batch!r}.", field="batch")
    if not op.batch_id and op.status == "failed":
        raise ToolFailure("bulk_send_failed", f"Bulk send “{op.batch_name}” failed and nothing was sent: {op.error}",
                          field="batch")
    if not op.batch_id:  # DocuSign never confirmed it (see bulk_send): say what is known, not "no such batch"
        raise ToolFailure("bulk_send_unconfirmed", f"Bulk send “{op.batch_name}” was never confirmed by DocuSign "
                          f"({op.error or 'no batch id was returned'}). It may be sending: check the batch in "
                          "DocuSign before sending it again.", field="batch")
    client = await docusign(ctx)
    status = (await client.get_bulk_batch(op.batch_id)).value
    sent, failed, queued = int(status.sent or 0), int(status.failed or 0), int(status.queued or 0)
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await session.get(BulkOperation, op.id)
        assert row is not None
        row.sent, row.failed, row.queued = max(row.sent, sent), failed, queued
        if queued == 0 and row.status == "sending":
            row.status = "sent" if failed < row.total else "failed"
        counters = {k: getattr(row, k) for k in ("total", "queued", "sent", "delivered", "completed", "declined",
                                                  "voided", "failed")}
        state = row.status
    error_rate = counters["failed"] / counters["total"] if counters["total"] else 0.0
    return ok(f"Bulk send “{op.batch_name}”: {counters['sent']} of {counters['total']} sent, {counters['completed']} "
              f"completed, {counters['failed']} failed, {counters['queued']} queued.", batch_id=op.batch_id,
              status=state, counters=counters, error_rate=round(error_rate, 4))


SPECS = [
    ToolSpec("bulk_send", "Send one template to many recipients (rows or CSV), tracked as a batch.", BulkSendArgs,
             bulk_send, approval="always", docusign_call="POST bulk_send_lists, POST bulk_send_lists/{id}/send",
             precheck=check_bulk_send,
             effect="destructive"),
    ToolSpec("get_bulk_send_status", "Progress of a bulk send batch by id or name.", BulkStatusArgs,
             get_bulk_send_status, docusign_call="GET bulk_send_batch/{id}",
             effect="read"),
]
