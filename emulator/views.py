"""Internal records rendered as DocuSign's camelCase JSON, with every scalar a string as DocuSign sends it."""

from __future__ import annotations

import base64
from typing import Any

from emulator.pdf import page_count
from emulator.state import Envelope, Recipient, Template, User


def envelope_uri(env: Envelope) -> str:
    return f"/envelopes/{env.envelope_id}"


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def recipient_json(r: Recipient, *, include_tabs: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "recipientId": r.recipient_id,
        "recipientIdGuid": r.recipient_id_guid,
        "recipientType": "signer" if r.kind == "signer" else "carboncopy",
        "name": r.name,
        "email": r.email,
        "routingOrder": str(r.routing_order),
        "status": r.status,
        "creationReason": "sender" if r.kind == "signer" else None,
        "deliveryMethod": "email",
        "roleName": r.role_name,
        "clientUserId": r.client_user_id,
        "sentDateTime": r.sent_at,
        "deliveredDateTime": r.delivered_at,
        "signedDateTime": r.signed_at if r.kind == "signer" else None,
        "declinedDateTime": r.declined_at,
        "declinedReason": r.declined_reason,
    }
    if r.kind == "signer":
        out["totalTabCount"] = str(sum(len(v) for v in r.tabs.values() if isinstance(v, list)))
        if include_tabs:
            out["tabs"] = r.tabs
    return _drop_none(out)


def current_routing_order(recipients: list[Recipient]) -> int:
    pending = [r.routing_order for r in recipients if r.kind == "signer" and r.status not in ("completed",)]
    if pending:
        return min(pending)
    return max((r.routing_order for r in recipients), default=1)


def recipients_json(recipients: list[Recipient], *, include_tabs: bool = False) -> dict[str, Any]:
    ordered = sorted(
        recipients, key=lambda r: (r.routing_order, int(r.recipient_id) if r.recipient_id.isdigit() else 0)
    )
    return {
        "signers": [recipient_json(r, include_tabs=include_tabs) for r in ordered if r.kind == "signer"],
        "carbonCopies": [recipient_json(r) for r in ordered if r.kind == "carbonCopy"],
        "agents": [],
        "editors": [],
        "intermediaries": [],
        "certifiedDeliveries": [],
        "inPersonSigners": [],
        "seals": [],
        "witnesses": [],
        "notaries": [],
        "recipientCount": str(len(recipients)),
        "currentRoutingOrder": str(current_routing_order(recipients)),
    }


def custom_fields_json(env: Envelope) -> dict[str, Any]:
    return {"textCustomFields": [dict(f) for f in env.text_custom_fields], "listCustomFields": []}


def envelope_json(env: Envelope, sender: User | None, *, include: set[str] | None = None) -> dict[str, Any]:
    include = include or set()
    base = f"/envelopes/{env.envelope_id}"
    out: dict[str, Any] = {
        "envelopeId": env.envelope_id,
        "status": env.status,
        "emailSubject": env.email_subject,
        "emailBlurb": env.email_blurb,
        "envelopeUri": base,
        "documentsUri": f"{base}/documents",
        "documentsCombinedUri": f"{base}/documents/combined",
        "certificateUri": f"{base}/documents/certificate",
        "recipientsUri": f"{base}/recipients",
        "customFieldsUri": f"{base}/custom_fields",
        "notificationUri": f"{base}/notification",
        "attachmentsUri": f"{base}/attachments",
        "templatesUri": f"{base}/templates",
        "createdDateTime": env.created_at,
        "lastModifiedDateTime": env.last_modified_at,
        "statusChangedDateTime": env.status_changed_at,
        "sentDateTime": env.sent_at,
        "initialSentDateTime": env.initial_sent_at,
        "deliveredDateTime": env.delivered_at,
        "completedDateTime": env.completed_at,
        "declinedDateTime": env.declined_at,
        "voidedDateTime": env.voided_at,
        "voidedReason": env.voided_reason,
        "purgeState": "unpurged",
        "envelopeIdStamping": "true",
        "is21CFRPart11": "false",
        "signerCanSignOnMobile": "true",
        "isSignatureProviderEnvelope": "false",
        "allowViewHistory": "true",
        "allowMarkup": "false",
        "allowReassign": "true",
        "enableWetSign": "true",
        "enforceSignerVisibility": "false",
        "autoNavigation": "true",
        "brandLock": "false",
        "useDisclosure": "false",
        "anySigner": None,
        "hasComments": "false",
        "envelopeLocation": "current_site",
    }
    if sender is not None:
        out["sender"] = {
            "userName": sender.name,
            "userId": sender.user_id,
            "accountId": env.account_id,
            "email": sender.email,
        }
    if "recipients" in include:
        out["recipients"] = recipients_json(env.recipients, include_tabs="tabs" in include)
    if "custom_fields" in include:
        out["customFields"] = custom_fields_json(env)
    if "documents" in include:
        out["envelopeDocuments"] = [document_json(env, d.document_id) for d in env.documents]
    return _drop_none(out)


def document_json(env: Envelope, document_id: str) -> dict[str, Any]:
    doc = next(d for d in env.documents if d.document_id == document_id)
    pages = page_count(base64.b64decode(doc.pdf_base64))
    return {
        "documentId": doc.document_id,
        "documentIdGuid": doc.document_id_guid,
        "name": doc.name,
        "type": "content",
        "uri": f"/envelopes/{env.envelope_id}/documents/{doc.document_id}",
        "order": str(doc.order),
        "pages": [
            {
                "pageId": f"{doc.document_id_guid}-{i}",
                "sequence": str(i),
                "height": "792",
                "width": "612",
                "dpi": "72",
            }
            for i in range(1, pages + 1)
        ],
        "display": "inline",
        "includeInDownload": "true",
        "signerMustAcknowledge": "no_interaction",
        "templateRequired": "false",
        "authoritativeCopy": "false",
        "containsPdfFormFields": "false",
        "availableDocumentTypes": [{"type": "electronic", "isDefault": "true"}],
    }


def summary_json(env: Envelope) -> dict[str, Any]:
    return {
        "envelopeId": env.envelope_id,
        "status": env.status,
        "statusDateTime": env.status_changed_at,
        "uri": envelope_uri(env),
    }


def template_json(tpl: Template, owner: User | None, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "templateId": tpl.template_id,
        "name": tpl.name,
        "description": tpl.description,
        "shared": "false",
        "emailSubject": tpl.email_subject,
        "emailBlurb": tpl.email_blurb,
        "created": tpl.created_at,
        "createdDateTime": tpl.created_at,
        "lastModified": tpl.created_at,
        "lastModifiedDateTime": tpl.created_at,
        "uri": f"/templates/{tpl.template_id}",
        "pageCount": "1",
        "folderName": "Templates",
        "status": "created",
        "passwordProtected": "false",
    }
    if owner is not None:
        out["owner"] = {"userName": owner.name, "userId": owner.user_id, "email": owner.email}
    if full:
        out["recipients"] = recipients_json(tpl.recipients, include_tabs=True)
        out["documents"] = [
            {
                "documentId": d.document_id,
                "name": d.name,
                "order": str(d.order),
                "pages": "1",
                "uri": f"/templates/{tpl.template_id}/documents/{d.document_id}",
            }
            for d in tpl.documents
        ]
    return out
