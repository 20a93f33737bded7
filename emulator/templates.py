"""Templates REST routes (read-only: templates are seeded per account)."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator.accounts import Caller, require_account
from emulator.errors import DocuSignError, invalid_param
from emulator.pdf import safe_filename
from emulator.state import Template
from emulator.views import recipients_json, template_json

router = APIRouter()
BASE = "/restapi/v2.1/accounts/{accountId}/templates"


def _template(caller: Caller, template_id: str) -> Template:
    tpl = caller.emulator.state.templates.get(template_id)
    if tpl is None or tpl.account_id != caller.account.account_id:
        raise DocuSignError(
            "TEMPLATE_ID_INVALID", f"Invalid template ID. Template {template_id} was not found.", 404
        )
    return tpl


@router.get(BASE)
async def list_templates(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    q = request.query_params
    search = (q.get("search_text") or "").lower()
    count_raw, start_raw = q.get("count", "100"), q.get("start_position", "0")
    if not count_raw.isdigit() or not start_raw.isdigit():
        raise invalid_param("Query parameters 'count' and 'start_position' must be non-negative integers.")
    found = [
        t
        for t in caller.emulator.state.templates.values()
        if t.account_id == accountId
        and (not search or search in t.name.lower() or search in t.description.lower())
    ]
    found.sort(key=lambda t: t.name)
    start, count = int(start_raw), int(count_raw)
    page = found[start : start + count]
    owner = caller.emulator.state.users
    include = {i.strip() for i in (q.get("include") or "").split(",")}
    return JSONResponse(
        {
            "resultSetSize": str(len(page)),
            "totalSetSize": str(len(found)),
            "startPosition": str(start),
            "endPosition": str(start + len(page) - 1 if page else start),
            "envelopeTemplates": [
                template_json(t, owner.get(t.owner_user_id), full="recipients" in include) for t in page
            ],
        }
    )


@router.get(BASE + "/{templateId}")
async def get_template(request: Request, accountId: str, templateId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    tpl = _template(caller, templateId)
    return JSONResponse(template_json(tpl, caller.emulator.state.users.get(tpl.owner_user_id)))


@router.get(BASE + "/{templateId}/recipients")
async def template_recipients(request: Request, accountId: str, templateId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    return JSONResponse(recipients_json(_template(caller, templateId).recipients, include_tabs=True))


@router.get(BASE + "/{templateId}/documents/{documentId}")
async def template_document(request: Request, accountId: str, templateId: str, documentId: str) -> Response:
    caller = require_account(request, accountId)
    tpl = _template(caller, templateId)
    doc = next((d for d in tpl.documents if d.document_id == documentId), None)
    if doc is None:
        raise DocuSignError(
            "DOCUMENT_DOES_NOT_EXIST", f"The document specified was not found. Document {documentId}."
        )
    return Response(
        base64.b64decode(doc.pdf_base64),
        media_type="application/pdf",
        headers={"Content-Disposition": f'file; filename="{safe_filename(doc.name)}"'},
    )
