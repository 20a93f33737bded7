"""Recipients REST routes: list, correct/resend, and the embedded signing view."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from docusign_agent.envelope_rules import is_terminal
from emulator import workflow
from emulator.accounts import require_account
from emulator.builder import EMAIL
from emulator.envelopes import BASE, get_envelope_for
from emulator.errors import DocuSignError, invalid_param, json_body, unknown_recipient
from emulator.runtime import root_url
from emulator.state import Recipient, ViewToken, new_token
from emulator.views import recipients_json

router = APIRouter()
VIEW_TTL_SECONDS = 300


@router.get(BASE + "/{envelopeId}/recipients")
async def list_recipients(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    include_tabs = request.query_params.get("include_tabs", "").lower() == "true"
    return JSONResponse(recipients_json(env.recipients, include_tabs=include_tabs))


def _collect_changes(
    env_recipients: list[Recipient], body: dict[str, Any]
) -> list[tuple[Recipient, dict[str, str]]]:
    changes: list[tuple[Recipient, dict[str, str]]] = []
    for key in ("signers", "carbonCopies"):
        items = body.get(key) or []
        if not isinstance(items, list):
            raise invalid_param(f"'{key}' must be a list.")
        for item in items:
            if not isinstance(item, dict) or not str(item.get("recipientId") or "").strip():
                raise invalid_param("Each recipient to correct needs a 'recipientId'.")
            rid = str(item["recipientId"])
            r = next((x for x in env_recipients if x.recipient_id == rid), None)
            if r is None:
                raise unknown_recipient()
            fields: dict[str, str] = {}
            if item.get("name") is not None:
                name = str(item["name"]).strip()
                if not name:
                    raise invalid_param(f"Recipient {rid}: 'name' cannot be empty.")
                fields["name"] = name
            if item.get("email") is not None:
                email = str(item["email"]).strip()
                if not EMAIL.match(email):
                    raise DocuSignError(
                        "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
                        f"The email address for the recipient is invalid. The recipient Id follows. {rid}",
                    )
                fields["email"] = email
            if fields and r.status in ("completed", "declined") and r.kind == "signer":
                raise DocuSignError(
                    "RECIPIENT_UPDATE_FAILED",
                    f"Recipient {rid} has already {'signed' if r.status == 'completed' else 'declined'} "
                    "and can no longer be corrected.",
                )
            if fields:
                changes.append((r, fields))
    return changes


@router.put(BASE + "/{envelopeId}/recipients")
async def update_recipients(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    body = await json_body(request, required=False)
    resend = request.query_params.get("resend_envelope", "").lower() == "true"
    if is_terminal(env.status):
        raise DocuSignError(
            "ENVELOPE_INVALID_STATUS",
            f"Invalid envelope status. Recipients of a '{env.status}' envelope cannot be corrected.",
        )
    changes = _collect_changes(env.recipients, body)
    if resend and env.status not in workflow.ACTIVE:
        raise DocuSignError("ENVELOPE_INVALID_STATUS", "Only sent or delivered envelopes can be resent.")
    if changes:
        workflow.correct(caller.emulator, env, changes)
    if resend:
        workflow.resend(caller.emulator, env)
    touched = {r.recipient_id for r, _ in changes} | (
        {str(i.get("recipientId")) for k in ("signers", "carbonCopies") for i in body.get(k) or []}
    )
    results = [
        {
            "recipientId": rid,
            "recipientIdGuid": workflow.find_recipient(env, rid).recipient_id_guid,
            "errorDetails": {"errorCode": "SUCCESS", "message": ""},
        }
        for rid in sorted(touched)
    ]
    return JSONResponse({"recipientUpdateResults": results})


def _match_view_recipient(recipients: list[Recipient], body: dict[str, Any]) -> Recipient:
    client_user_id = body.get("clientUserId")
    user_name = str(body.get("userName") or "").strip().lower()
    email = str(body.get("email") or "").strip().lower()
    rid = body.get("recipientId")
    for r in recipients:
        if not r.client_user_id or str(client_user_id or "") != r.client_user_id:
            continue
        if rid is not None and str(rid) != r.recipient_id:
            continue
        if user_name and user_name != r.name.lower():
            continue
        if email and email != r.email.lower():
            continue
        if not user_name and not email and rid is None:
            continue
        return r
    raise unknown_recipient()


@router.post(BASE + "/{envelopeId}/views/recipient")
async def recipient_view(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    body = await json_body(request)
    return_url = body.get("returnUrl")
    if not isinstance(return_url, str) or not return_url.startswith(("http://", "https://")):
        raise invalid_param("'returnUrl' must be an absolute http(s) URL.")
    if str(body.get("authenticationMethod") or "none").strip() == "":
        raise invalid_param("'authenticationMethod' is required.")
    recipient = _match_view_recipient(env.recipients, body)
    if env.status == "created":
        raise DocuSignError(
            "ENVELOPE_INVALID_STATUS", "The envelope has not been sent; there is nothing to sign yet."
        )
    token = new_token()
    state = caller.emulator.state
    now = time.time()
    for key in [k for k, v in state.view_tokens.items() if v.expires_at < now]:
        del state.view_tokens[key]
    state.view_tokens[token] = ViewToken(
        env.envelope_id, recipient.recipient_id, return_url, now + VIEW_TTL_SECONDS
    )
    caller.emulator.changed()
    return JSONResponse({"url": f"{root_url(request)}/signing/{token}"}, status_code=201)
