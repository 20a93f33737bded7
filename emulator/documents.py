"""Document downloads (single, combined, certificate, archive) and the envelope audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator.accounts import require_account
from emulator.envelopes import BASE, get_envelope_for
from emulator.errors import DocuSignError
from emulator.pdf import archive_zip, certificate_pdf, combined_pdf, safe_filename, single_document_pdf
from emulator.state import EmulatorState, Envelope
from emulator.views import document_json

router = APIRouter()


def _certificate(state: EmulatorState, env: Envelope) -> bytes:
    sender = state.users.get(env.sender_user_id)
    return certificate_pdf(env, sender.name if sender else "", sender.email if sender else "")


@router.get(BASE + "/{envelopeId}/documents")
async def list_documents(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    docs = [document_json(env, d.document_id) for d in sorted(env.documents, key=lambda d: d.order)]
    if request.query_params.get("include_document_size", "").lower() == "true":
        for entry, d in zip(docs, sorted(env.documents, key=lambda d: d.order), strict=True):
            entry["sizeBytes"] = str(len(d.pdf_base64) * 3 // 4)
    docs.append(
        {
            "documentId": "certificate",
            "name": "Summary",
            "type": "summary",
            "order": "999",
            "uri": f"/envelopes/{env.envelope_id}/documents/certificate",
            "display": "inline",
            "includeInDownload": "true",
            "signerMustAcknowledge": "no_interaction",
            "templateRequired": "false",
            "authoritativeCopy": "false",
        }
    )
    return JSONResponse({"envelopeId": env.envelope_id, "envelopeDocuments": docs})


@router.get(BASE + "/{envelopeId}/documents/{documentId}")
async def get_document(request: Request, accountId: str, envelopeId: str, documentId: str) -> Response:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    state = caller.emulator.state
    if documentId == "combined":
        data, name, media = combined_pdf(env), "combined.pdf", "application/pdf"
    elif documentId in ("certificate", "summary"):
        data, name, media = _certificate(state, env), "Summary.pdf", "application/pdf"
    elif documentId == "archive":
        data, name, media = archive_zip(env, _certificate(state, env)), "archive.zip", "application/zip"
    else:
        doc = next((d for d in env.documents if d.document_id == documentId), None)
        if doc is None:
            raise DocuSignError(
                "DOCUMENT_DOES_NOT_EXIST", f"The document specified was not found. Document {documentId}."
            )
        data, name, media = single_document_pdf(env, documentId), safe_filename(doc.name), "application/pdf"
    return Response(data, media_type=media, headers={"Content-Disposition": f'file; filename="{name}"'})


@router.get(BASE + "/{envelopeId}/audit_events")
async def audit_events(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    sender = caller.emulator.state.users.get(env.sender_user_id)
    events = []
    for a in env.audit:
        fields = {
            "logTime": a.at,
            "Source": "api",
            "UserName": a.user_name,
            "UserId": sender.user_id if sender else "",
            "Action": a.action,
            "Message": a.message,
            "EnvelopeStatus": a.envelope_status,
            "ClientIPAddress": a.client_ip,
            "Information": "",
            "GeoLocation": "",
            "Language": "english (us)",
        }
        events.append({"eventFields": [{"name": k, "value": v} for k, v in fields.items()]})
    return JSONResponse({"auditEvents": events})
