"""Creating envelopes: from an uploaded document or from a template, sent now or saved as a draft."""

from __future__ import annotations

import base64
from typing import Any

from docusign_esign import (
    CarbonCopy,
    CompositeTemplate,
    DateSigned,
    Document,
    EnvelopeDefinition,
    EnvelopeSummary,
    EventNotification,
    FullName,
    InitialHere,
    InlineTemplate,
    Recipients,
    ServerTemplate,
    Signer,
    SignHere,
    Tabs,
    TemplateRole,
    Text,
)

from db import documents as documents_repo
from db import mirror
from docusign_client.client import DocuSignClient
from docusign_client.connect import event_notification, webhook_url
from docusign_client.sdk import DocuSignResult
from tools.base import ToolSpec
from tools.common import docusign, preferences
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import AnchorTab, SendDocumentArgs, SendTemplateArgs
from tools.templates import resolve_template

TAB_TYPES = {"sign_here": (SignHere, "sign_here_tabs"), "date_signed": (DateSigned, "date_signed_tabs"),
             "initial_here": (InitialHere, "initial_here_tabs"), "full_name": (FullName, "full_name_tabs"),
             "text": (Text, "text_tabs")}


def _event_notification(ctx: ToolContext) -> EventNotification | None:
    """Real DocuSign: every envelope also reports to our webhook, even if account-level Connect is off."""
    settings = ctx.settings
    if not settings.docusign_is_real:
        return None
    return event_notification(webhook_url(settings.base_url))


def _tabs_for(email: str, anchors: list[AnchorTab], first: bool) -> Tabs | None:
    mine = [a for a in anchors if (a.signer_email and a.signer_email.lower() == email.lower()) or
            (a.signer_email is None and first)]
    if not mine:
        return None
    tabs = Tabs()
    for anchor in mine:
        cls, attr = TAB_TYPES[anchor.tab_type]
        tab = cls(anchor_string=anchor.anchor_string, anchor_units="pixels", anchor_y_offset="10",
                  anchor_ignore_if_not_present="false")
        setattr(tabs, attr, [*(getattr(tabs, attr) or []), tab])
    return tabs


async def _routing(ctx: ToolContext, given: list[int | None]) -> list[int]:
    if all(g is not None for g in given):
        return [int(g) for g in given]  # type: ignore[arg-type]
    sequential = (await preferences(ctx)).default_signing_order == "sequential"
    return [g if g is not None else (i + 1 if sequential else 1) for i, g in enumerate(given)]


async def _created(ctx: ToolContext, client: DocuSignClient, created: DocuSignResult[EnvelopeSummary], subject: str,
                   draft: bool, request_id: str, recipients: list[dict[str, Any]]) -> dict[str, Any]:
    summary = created.value
    async with ctx.database.user_session(ctx.user_id) as session:
        await mirror.record_sent_envelope(
            session, user_id=ctx.user_id, account_id=client.account_id, envelope_id=summary.envelope_id,
            status=summary.status, email_subject=subject, request_id=request_id, recipients=recipients,
        )
    names = ", ".join(f"{r['name']} ({r['email']})" for r in recipients if r["type"] == "signer")
    if draft:
        text = f"Saved a draft envelope “{subject}” for {names}; it has not been sent."
    else:
        text = f"Sent “{subject}” to {names} for signature."
    return ok(text, envelope_id=summary.envelope_id, status=summary.status,
              envelope={"envelopeId": summary.envelope_id, "status": summary.status, "emailSubject": subject,
                        "recipients": recipients}, _trace_token=created.trace_token)


async def _document(ctx: ToolContext, ref: str) -> Any:
    async with ctx.database.user_session(ctx.user_id) as session:
        doc = await documents_repo.find(session, ref)
    if doc is None or not doc.content:
        raise ToolFailure("unknown_document", f"document: no uploaded document matches {ref!r}; "
                          "upload it first or use list_my_documents.", field="document")
    return doc


async def send_document(ctx: ToolContext, args: SendDocumentArgs) -> dict[str, Any]:
    doc = await _document(ctx, args.document)
    orders = await _routing(ctx, [s.routing_order for s in args.signers])
    signers, recipients = [], []
    for i, (s, order) in enumerate(zip(args.signers, orders, strict=True)):
        signer = Signer(email=str(s.email), name=s.name, recipient_id=str(i + 1), routing_order=str(order),
                        tabs=_tabs_for(str(s.email), args.anchor_tabs, i == 0))
        if s.embedded:
            signer.client_user_id = str(s.email)
        signers.append(signer)
        recipients.append({"recipientId": str(i + 1), "type": "signer", "name": s.name, "email": str(s.email),
                           "routingOrder": order, "embedded": s.embedded})
    ccs = []
    for j, c in enumerate(args.cc):
        rid = str(len(signers) + j + 1)
        ccs.append(CarbonCopy(email=str(c.email), name=c.name, recipient_id=rid, routing_order=str(max(orders) + 1)))
        recipients.append({"recipientId": rid, "type": "carbon_copy", "name": c.name, "email": str(c.email),
                           "routingOrder": max(orders) + 1})
    subject = _document_subject(args, doc)
    definition = EnvelopeDefinition(
        email_subject=subject, email_blurb=args.email_message,
        documents=[Document(document_base64=base64.b64encode(doc.content).decode(), name=doc.filename,
                            file_extension=documents_repo.file_extension(doc), document_id="1")],
        recipients=Recipients(signers=signers, carbon_copies=ccs or None),
        status="created" if args.draft else "sent", event_notification=_event_notification(ctx),
    )
    client = await docusign(ctx)
    request_id = ctx.request_id
    created = await client.create_envelope(definition, request_id=request_id)
    return await _created(ctx, client, created, subject, args.draft, request_id, recipients)


def _assign_roles(template: Any, people: list[Any]) -> tuple[list[TemplateRole], list[dict[str, Any]], list[str]]:
    """Template roles for the recipients, in order unless they name one -> (roles, recipient rows, unfilled)."""
    roles = [s.role_name for s in (template.recipients.signers if template.recipients else None) or []]
    assigned: list[TemplateRole] = []
    recipients: list[dict[str, Any]] = []
    free = [r for r in roles]
    for person in people:
        role = person.role_name
        if role is None:
            if not free:
                raise ToolFailure("too_many_recipients", f"recipients: template “{template.name}” has roles "
                                  f"{', '.join(roles)}; there is no role left for {person.email}.", field="recipients")
            role = free.pop(0)
        elif role.lower() not in [r.lower() for r in roles]:
            raise ToolFailure("unknown_role", f"recipients.role_name: template “{template.name}” has no role "
                              f"{role!r}; its roles are {', '.join(roles)}.", field="recipients.role_name")
        else:
            role = next(r for r in roles if r.lower() == role.lower())
            if role in free:
                free.remove(role)
        assigned.append(TemplateRole(role_name=role, name=person.name, email=str(person.email)))
        recipients.append({"recipientId": str(len(recipients) + 1), "type": "signer", "name": person.name,
                           "email": str(person.email), "roleName": role, "routingOrder": 1})
    return assigned, recipients, free


def _template_subject(args: SendTemplateArgs, template: Any) -> str:
    return args.email_subject or template.email_subject or f"Please sign: {template.name}"


def _document_subject(args: SendDocumentArgs, doc: Any) -> str:
    return args.email_subject or f"Please sign: {doc.filename}"


async def check_send_template(ctx: ToolContext, args: SendTemplateArgs) -> dict[str, str]:
    """Before approval: the template exists and its roles fit the recipients."""
    template = await resolve_template(await docusign(ctx), args.template)
    _assign_roles(template, args.recipients)
    return {"template": template.name, "subject": _template_subject(args, template)}


async def check_send_document(ctx: ToolContext, args: SendDocumentArgs) -> dict[str, str]:
    """Before approval: the document is one of the user's."""
    doc = await _document(ctx, args.document)
    return {"document": doc.filename, "subject": _document_subject(args, doc)}


async def send_template(ctx: ToolContext, args: SendTemplateArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    template = await resolve_template(client, args.template)
    assigned, recipients, free = _assign_roles(template, args.recipients)
    # Roles nobody fills are left out, as DocuSign drops empty placeholder roles of a template.
    subject = _template_subject(args, template)
    definition = EnvelopeDefinition(
        email_subject=subject, email_blurb=args.email_message, status="created" if args.draft else "sent",
        event_notification=_event_notification(ctx),
    )
    if args.cc:
        # Copies are not template roles: DocuSign takes them through a composite template whose inline part
        # adds recipients on top of the server template's roles.
        ccs = []
        for c in args.cc:
            rid = str(len(recipients) + 1)
            ccs.append(CarbonCopy(email=str(c.email), name=c.name, recipient_id=rid, routing_order="99"))
            recipients.append({"recipientId": rid, "type": "carbon_copy", "name": c.name, "email": str(c.email),
                               "routingOrder": 99})
        signers = [Signer(role_name=r.role_name, name=r.name, email=r.email, recipient_id=str(i + 1))
                   for i, r in enumerate(assigned)]
        definition.composite_templates = [CompositeTemplate(
            composite_template_id="1",
            server_templates=[ServerTemplate(sequence="1", template_id=template.template_id)],
            inline_templates=[InlineTemplate(sequence="2", recipients=Recipients(signers=signers, carbon_copies=ccs))],
        )]
    else:
        definition.template_id = template.template_id
        definition.template_roles = assigned
    request_id = ctx.request_id
    created = await client.create_envelope(definition, request_id=request_id)
    result = await _created(ctx, client, created, subject, args.draft, request_id, recipients)
    if free:
        result["summary"] += (f" The template's other role{'s' if len(free) > 1 else ''} ({', '.join(free)}) "
                              f"{'were' if len(free) > 1 else 'was'} left unfilled.")
        result["unfilled_roles"] = free
    return result


SPECS = [
    ToolSpec("send_document", "Create an envelope from a document the user uploaded, with signers, cc, routing "
             "order and tabs at text anchors; sends it, or saves a draft when draft=true.", SendDocumentArgs,
             send_document, approval="unless_draft", docusign_call="POST envelopes (documents)",
             precheck=check_send_document,
             effect="write", creates_envelope=True),
    ToolSpec("send_template", "Create an envelope from a template (by name or id), filling its roles; sends it, or "
             "saves a draft when draft=true.", SendTemplateArgs, send_template, approval="unless_draft",
             docusign_call="POST envelopes (templateId + templateRoles; a compositeTemplate when cc is given)",
             precheck=check_send_template,
             effect="write", creates_envelope=True),
]
