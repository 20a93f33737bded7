"""Document tools: an envelope's documents, downloads (combined, certificate, archive), uploads, audit events."""

from __future__ import annotations

from typing import Any

from db import documents as documents_repo
from tools.base import ToolSpec
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ok
from tools.schemas import DownloadArgs, EnvelopeRef, ListMyDocumentsArgs

KIND_NAMES = {"combined": "signed PDF (all documents combined)", "certificate": "certificate of completion",
              "archive": "archive (zip)"}


async def list_envelope_documents(ctx: ToolContext, args: EnvelopeRef) -> dict[str, Any]:
    client = await docusign(ctx)
    result = (await client.list_documents(args.envelope_id)).value
    rows = [{"documentId": d.document_id, "name": d.name, "type": d.type, "pages": d.pages}
            for d in result.envelope_documents or []]
    names = ", ".join(f"{r['name']} (id {r['documentId']})" for r in rows)
    return ok(f"Envelope {args.envelope_id} has {len(rows)} document{'s' if len(rows) != 1 else ''}: {names}.",
              envelope_id=args.envelope_id, documents=rows)


async def download_document(ctx: ToolContext, args: DownloadArgs) -> dict[str, Any]:
    """Downloads are kept as the user's documents, so the UI can offer them and analysis can read them."""
    client = await docusign(ctx)
    download = await client.get_document(args.envelope_id, args.document)
    content = download.value
    what = KIND_NAMES.get(args.document, f"document {args.document}")
    if args.document == "archive":
        filename = f"envelope-{args.envelope_id[:8]}-archive.zip"
        return ok(f"Downloaded the {what} of envelope {args.envelope_id} ({len(content):,} bytes). Zip archives are "
                  "not stored; ask for the combined PDF or the certificate to keep a copy.",
                  envelope_id=args.envelope_id, filename=filename, size_bytes=len(content))
    filename = f"envelope-{args.envelope_id[:8]}-{args.document}.pdf"
    async with ctx.database.user_session(ctx.user_id) as session:
        row = await documents_repo.store(session, ctx.user_id, filename, content,
                                         docusign_document_id=args.document)
    return ok(f"Downloaded the {what} of envelope {args.envelope_id}: {filename}, {row.page_count} page"
              f"{'s' if row.page_count != 1 else ''}. It is in your documents as {row.id}.",
              envelope_id=args.envelope_id, document_id=str(row.id), filename=filename, pages=row.page_count,
              size_bytes=row.size_bytes, url=f"/v1/documents/{row.id}/content",
              _trace_token=download.trace_token)


async def list_my_documents(ctx: ToolContext, args: ListMyDocumentsArgs) -> dict[str, Any]:
    async with ctx.database.user_session(ctx.user_id) as session:
        rows = await documents_repo.list_for_user(session, args.search_text)
    docs = [{"documentId": str(d.id), "filename": d.filename, "pages": d.page_count, "size_bytes": d.size_bytes,
             "uploaded": d.created_at.isoformat()} for d in rows]
    if not docs:
        return ok("You have not uploaded any documents" + (f" matching {args.search_text!r}." if args.search_text else "."),
                  documents=[])
    return ok(f"You have {len(docs)} document{'s' if len(docs) != 1 else ''}: "
              + ", ".join(d["filename"] for d in docs[:10]) + ("…" if len(docs) > 10 else "."), documents=docs)


async def get_audit_events(ctx: ToolContext, args: EnvelopeRef) -> dict[str, Any]:
    client = await docusign(ctx)
    result = (await client.list_audit_events(args.envelope_id)).value
    events = []
    for event in result.audit_events or []:
        fields = {f.name: f.value for f in event.event_fields or []}
        events.append({"when": fields.get("logTime"), "who": fields.get("UserName"), "action": fields.get("Action"),
                       "message": fields.get("Message"), "status": fields.get("EnvelopeStatus")})
    lines = [f"{e['when']}: {e['who']} — {e['action']}" for e in events]
    return ok(f"Envelope {args.envelope_id} has {len(events)} audit event{'s' if len(events) != 1 else ''}"
              + (": " + "; ".join(lines[-5:]) + "." if lines else "."), envelope_id=args.envelope_id, events=events)


SPECS = [
    ToolSpec("list_envelope_documents", "List the documents in an envelope.", EnvelopeRef, list_envelope_documents,
             docusign_call="GET envelopes/{id}/documents",
             effect="read"),
    ToolSpec("download_document", "Download an envelope's combined signed PDF, its certificate of completion, its "
             "archive, or one document.", DownloadArgs, download_document,
             docusign_call="GET envelopes/{id}/documents/{combined, certificate, archive or a document id}",
             effect="write", idempotent=True),
    ToolSpec("list_my_documents", "List the documents the user has uploaded (to send or analyse).",
             ListMyDocumentsArgs, list_my_documents,
             effect="read"),
    ToolSpec("get_audit_events", "The audit trail of an envelope: who did what, when.", EnvelopeRef,
             get_audit_events, docusign_call="GET envelopes/{id}/audit_events",
             effect="read"),
]
