"""Turns an envelopeDefinition (documents or template + roles) into an Envelope, validating everything first.

Nothing touches the state here: the caller stores the result only once the whole definition is accepted.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from functools import lru_cache
from typing import Any

from emulator.connect import validate_events, validate_url
from emulator.errors import INVALID_PARAM, DocuSignError, invalid_param
from emulator.pdf import CONVERTED, AnchorHit, find_anchor, is_pdf, page_count, render_document
from emulator.state import Document, EmulatorState, Envelope, Recipient, Template, new_id

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNIT = {"pixels": 1.0, "points": 1.0, "inches": 72.0, "mms": 72 / 25.4, "cms": 72 / 2.54}


@lru_cache(maxsize=512)
def _anchor_hits(data: bytes, anchor: str, case_sensitive: bool) -> tuple[AnchorHit, ...]:
    return tuple(find_anchor(data, anchor, case_sensitive=case_sensitive))


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def parse_documents(raw: Any) -> list[Document]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_param("'documents' must be a list.")
    docs: list[Document] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise invalid_param("Each document must be an object.")
        doc_id = str(item.get("documentId") or "").strip()
        if not doc_id:
            raise DocuSignError(
                "INVALID_REQUEST_PARAMETER",
                f"{INVALID_PARAM} 'documentId' is required for document {index}.",
            )
        if any(d.document_id == doc_id for d in docs):
            raise DocuSignError(
                "DUPLICATE_DOCUMENT_ID", f"Document id {doc_id} is used by more than one document."
            )
        name = str(item.get("name") or f"Document {doc_id}")
        b64 = item.get("documentBase64")
        if not isinstance(b64, str) or not b64.strip():
            raise DocuSignError(
                "INVALID_REQUEST_PARAMETER",
                f"{INVALID_PARAM} Document {doc_id} has no documentBase64.",
            )
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DocuSignError(
                "FORMAT_CONVERSION_ERROR",
                f"The data could not be converted. Document {doc_id} is not valid base64.",
            ) from exc
        ext = str(item.get("fileExtension") or (name.rsplit(".", 1)[-1] if "." in name else "pdf")).lower()
        if ext in ("txt", "text"):
            data = render_document(name, data.decode("utf-8", "replace").split("\n\n"), [])
        elif ext in CONVERTED:
            # DocuSign converts Word files and images to PDF; so does the emulator, to a real PDF with their text.
            try:
                data = CONVERTED[ext](name, data)
            except ValueError as exc:
                raise DocuSignError("FORMAT_CONVERSION_ERROR",
                                    f"The data could not be converted. Document {doc_id}: {exc}") from exc
        elif not is_pdf(data):
            raise DocuSignError(
                "FORMAT_CONVERSION_ERROR",
                f"The data could not be converted. Document {doc_id} is not a readable PDF.",
            )
        order = int(item["order"]) if str(item.get("order", "")).isdigit() else index
        docs.append(
            Document(document_id=doc_id, name=name, pdf_base64=base64.b64encode(data).decode(), order=order)
        )
    return docs


def resolve_tabs(tabs: Any, recipient_id: str, docs: list[Document]) -> dict[str, Any]:
    """Place anchor tabs the way DocuSign does, and refuse tabs that point at nothing."""
    if tabs is None:
        return {}
    if not isinstance(tabs, dict):
        raise invalid_param(f"'tabs' of recipient {recipient_id} must be an object.")
    pdfs = {d.document_id: base64.b64decode(d.pdf_base64) for d in docs}
    out: dict[str, Any] = {}
    for kind, items in tabs.items():
        if not isinstance(items, list):
            raise invalid_param(f"'tabs.{kind}' of recipient {recipient_id} must be a list.")
        placed: list[dict[str, Any]] = []
        for raw in items:
            if not isinstance(raw, dict):
                raise invalid_param(f"Each tab in '{kind}' must be an object.")
            tab = {
                k: (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
                for k, v in raw.items()
            }
            tab["recipientId"] = recipient_id
            tab.setdefault("tabId", new_id())
            tab.setdefault("tabType", kind.removesuffix("Tabs"))
            anchor = tab.get("anchorString")
            if anchor:
                hit = _find_anchor(pdfs, str(anchor), _truthy(tab.get("anchorCaseSensitive")))
                if hit is None:
                    if _truthy(tab.get("anchorIgnoreIfNotPresent")):
                        continue
                    raise DocuSignError(
                        "ANCHOR_TAB_STRING_NOT_FOUND",
                        f"The specified Anchor Tab string was not found in the document. "
                        f"Anchor Tab String [{anchor}] not found.",
                    )
                doc_id, spot = hit
                scale = UNIT.get(str(tab.get("anchorUnits") or "pixels").lower(), 1.0)
                tab["documentId"] = doc_id
                tab["pageNumber"] = str(spot.page_number)
                tab["xPosition"] = str(int(spot.x + float(tab.get("anchorXOffset") or 0) * scale))
                tab["yPosition"] = str(int(spot.y + float(tab.get("anchorYOffset") or 0) * scale))
            else:
                doc_id = str(tab.get("documentId") or "")
                if doc_id not in pdfs:
                    raise DocuSignError(
                        "TAB_REFERS_TO_MISSING_DOCUMENT",
                        "The DocumentId specified in the tab element does not refer to a document in "
                        f"this envelope. Tab refers to DocumentId {doc_id or '(none)'}.",
                    )
                page = str(tab.get("pageNumber") or "1")
                if not page.isdigit() or not 1 <= int(page) <= page_count(pdfs[doc_id]):
                    raise DocuSignError(
                        "TAB_PAGENUMBER_IS_NOT_IN_DOCUMENT",
                        f"The pagenumber specified in the tab element is not in the document that the "
                        f"tab refers to. Tab on Page {page} of Document {doc_id}.",
                    )
                tab["pageNumber"] = page
            placed.append(tab)
        out[kind] = placed
    return out


def _find_anchor(pdfs: dict[str, bytes], anchor: str, case_sensitive: bool) -> tuple[str, AnchorHit] | None:
    for doc_id, data in pdfs.items():
        hits = _anchor_hits(data, anchor, case_sensitive)
        if hits:
            return doc_id, hits[0]
    return None


def _recipient(item: Any, kind: str, index: int, docs: list[Document]) -> Recipient:
    if not isinstance(item, dict):
        raise invalid_param(f"Each entry of '{kind}s' must be an object.")
    rid = str(item.get("recipientId") or index)
    name = str(item.get("name") or "").strip()
    email = str(item.get("email") or "").strip()
    if not name:
        raise invalid_param(f"Recipient {rid} has no name.")
    if not EMAIL.match(email):
        raise DocuSignError(
            "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
            f"The email address for the recipient is invalid. The recipient Id follows. {rid}",
        )
    order_raw = str(item.get("routingOrder") or "1")
    if not order_raw.isdigit() or int(order_raw) < 1:
        raise invalid_param(f"'routingOrder' of recipient {rid} must be a positive integer.")
    client_user_id = item.get("clientUserId")
    return Recipient(
        recipient_id=rid,
        kind=kind,
        name=name,
        email=email,
        routing_order=int(order_raw),
        client_user_id=str(client_user_id) if client_user_id not in (None, "") else None,
        role_name=item.get("roleName"),
        tabs=resolve_tabs(item.get("tabs"), rid, docs) if kind == "signer" else {},
    )


def parse_recipients(raw: Any, docs: list[Document]) -> list[Recipient]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise invalid_param("'recipients' must be an object.")
    out: list[Recipient] = []
    index = 1
    for key, kind in (("signers", "signer"), ("carbonCopies", "carbonCopy")):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise invalid_param(f"'recipients.{key}' must be a list.")
        for item in items:
            out.append(_recipient(item, kind, index, docs))
            index += 1
    ids = [r.recipient_id for r in out]
    if len(ids) != len(set(ids)):
        raise invalid_param("Each recipient must have a unique recipientId.")
    return out


def apply_template_roles(tpl: Template, roles: Any, docs: list[Document]) -> list[Recipient]:
    if roles is None:
        roles = []
    if not isinstance(roles, list):
        raise invalid_param("'templateRoles' must be a list.")
    by_role = {r.role_name: r for r in tpl.recipients}
    out: list[Recipient] = []
    for role in roles:
        if not isinstance(role, dict):
            raise invalid_param("Each templateRole must be an object.")
        role_name = role.get("roleName")
        base = by_role.get(role_name)
        if base is None:
            known = ", ".join(repr(r) for r in by_role)
            raise invalid_param(
                f"Template role '{role_name}' does not exist in template '{tpl.name}' (roles: {known})."
            )
        item = {
            "recipientId": base.recipient_id,
            "name": role.get("name"),
            "email": role.get("email"),
            "routingOrder": role.get("routingOrder") or base.routing_order,
            "clientUserId": role.get("clientUserId"),
            "roleName": role_name,
            "tabs": copy.deepcopy(base.tabs),
        }
        for kind, extra in (role.get("tabs") or {}).items():
            if isinstance(extra, list):
                item["tabs"].setdefault(kind, []).extend(extra)
        out.append(_recipient(item, base.kind, len(out) + 1, docs))
    return out


def parse_custom_fields(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise invalid_param("'customFields' must be an object.")
    fields = raw.get("textCustomFields") or []
    if not isinstance(fields, list):
        raise invalid_param("'customFields.textCustomFields' must be a list.")
    out: list[dict[str, Any]] = []
    for i, f in enumerate(fields, start=1):
        if not isinstance(f, dict) or not str(f.get("name") or "").strip():
            raise invalid_param("Each text custom field needs a 'name'.")
        out.append(
            {
                "fieldId": str(f.get("fieldId") or 10000 + i),
                "name": str(f["name"]),
                "value": str(f.get("value") or ""),
                "show": str(f.get("show") or "true"),
                "required": str(f.get("required") or "false"),
            }
        )
    return out


def parse_event_notification(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_param("'eventNotification' must be an object.")
    validate_url(raw.get("url"), "eventNotification.url")
    validate_events(raw)
    return copy.deepcopy(raw)


def _composite(body: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
    """compositeTemplates with one server template and an inline template: the inline signers that name a
    role fill it (like templateRoles) and the other inline recipients (carbon copies) are added."""
    composites = body.get("compositeTemplates")
    if not composites:
        return None
    if not isinstance(composites, list) or len(composites) != 1 or not isinstance(composites[0], dict):
        raise invalid_param("The emulator supports one composite template per envelope.")
    server = composites[0].get("serverTemplates") or []
    if len(server) != 1 or not isinstance(server[0], dict) or not server[0].get("templateId"):
        raise invalid_param("'compositeTemplates[0].serverTemplates' must name one templateId.")
    inline = composites[0].get("inlineTemplates") or []
    recipients: dict[str, Any] = (inline[0].get("recipients") or {}) if inline and isinstance(inline[0], dict) else {}
    roles = [s for s in recipients.get("signers") or [] if isinstance(s, dict) and s.get("roleName")]
    others = {"signers": [s for s in recipients.get("signers") or [] if isinstance(s, dict) and not s.get("roleName")],
              "carbonCopies": recipients.get("carbonCopies") or []}
    merged = {**body, "templateRoles": roles, "_inlineRecipients": others}
    return server[0]["templateId"], merged


def build_envelope(state: EmulatorState, account_id: str, sender_id: str, body: dict[str, Any]) -> Envelope:
    status = str(body.get("status") or "created").lower()
    if status not in ("created", "sent"):
        raise invalid_param("Value for 'status' must be 'created' or 'sent' when creating an envelope.")
    template: Template | None = None
    template_id = body.get("templateId")
    composite = _composite(body)
    if composite is not None:
        template_id, body = composite
    if template_id:
        template = state.templates.get(str(template_id))
        if template is None or template.account_id != account_id:
            raise DocuSignError(
                "TEMPLATE_ID_INVALID", f"Invalid template ID. Template {template_id} was not found."
            )
    if template is not None:
        docs = copy.deepcopy(template.documents)
        recipients = apply_template_roles(template, body.get("templateRoles"), docs)
        extra = parse_recipients(body.get("_inlineRecipients"), docs)
        taken = {r.recipient_id for r in recipients}
        for index, recipient in enumerate(extra, start=len(recipients) + 1):
            if recipient.recipient_id in taken:
                recipient.recipient_id = str(max([int(t) for t in taken if t.isdigit()] + [index]) + 1)
            taken.add(recipient.recipient_id)
            recipients.append(recipient)
    else:
        docs = parse_documents(body.get("documents"))
        recipients = parse_recipients(body.get("recipients"), docs)
    subject = str(body.get("emailSubject") or (template.email_subject if template else "")).strip()
    blurb = str(body.get("emailBlurb") or (template.email_blurb if template else ""))
    return Envelope(
        envelope_id=new_id(),
        account_id=account_id,
        sender_user_id=sender_id,
        email_subject=subject,
        email_blurb=blurb,
        status="created",
        documents=docs,
        recipients=recipients,
        text_custom_fields=parse_custom_fields(body.get("customFields")),
        event_notification=parse_event_notification(body.get("eventNotification")),
        template_id=template.template_id if template else None,
    )
