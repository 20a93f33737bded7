"""Envelopes REST routes: create, list status changes, get, and the status-changing PUT."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from docusign_agent.docusign_time import parse_time
from docusign_agent.envelope_rules import is_terminal
from emulator import workflow
from emulator.accounts import Caller, require_account
from emulator.builder import build_envelope
from emulator.connect import publish
from emulator.errors import DocuSignError, envelope_not_found, invalid_param, json_body
from emulator.state import Envelope
from emulator.views import envelope_json, summary_json

router = APIRouter()
BASE = "/restapi/v2.1/accounts/{accountId}/envelopes"
STATUSES = {"created", "sent", "delivered", "completed", "declined", "voided", "signed", "any", "changed"}


def get_envelope_for(caller: Caller, envelope_id: str) -> Envelope:
    env = caller.emulator.state.envelopes.get(envelope_id)
    if env is None or env.account_id != caller.account.account_id:
        raise envelope_not_found()
    return env


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def create_and_maybe_send(caller: Caller, body: dict[str, Any]) -> Envelope:
    """Shared by POST envelopes and bulk sends: validate fully, then store, then send."""
    state = caller.emulator.state
    env = build_envelope(state, caller.account.account_id, caller.user.user_id, body)
    wants_sent = str(body.get("status") or "created").lower() == "sent"
    if wants_sent:
        workflow.validate_sendable(env)
    state.envelopes[env.envelope_id] = env
    workflow.audit(caller.emulator, env, "Registered", caller.user.name, "The envelope was created.")
    publish(caller.emulator, env, "envelope-created")
    if wants_sent:
        workflow.send(caller.emulator, env)
    caller.emulator.changed()
    return env


@router.post(BASE)
async def create_envelope(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    body = await json_body(request)
    env = create_and_maybe_send(caller, body)
    return JSONResponse(summary_json(env), status_code=201)


def _parse_date(value: str, name: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise invalid_param(f"Query parameter '{name}' must be set to a valid DateTime.") from exc


def _matches_custom_field(env: Envelope, spec: str) -> bool:
    name, sep, value = spec.partition("=")
    if not sep:
        raise invalid_param("Query parameter 'custom_field' must be of the form 'name=value'.")
    return any(f["name"] == name and f.get("value") == value for f in env.text_custom_fields)


def _matches_text(env: Envelope, text: str) -> bool:
    needle = text.lower()
    hay = (
        [env.email_subject, env.envelope_id]
        + [r.name for r in env.recipients]
        + [r.email for r in env.recipients]
    )
    hay += [f.get("value", "") for f in env.text_custom_fields]
    return any(needle in (h or "").lower() for h in hay)


@router.get(BASE)
async def list_status_changes(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    q = request.query_params
    ids = _split(q.get("envelope_ids"))
    tx_ids = _split(q.get("transaction_ids"))
    from_raw = q.get("from_date")
    if not from_raw and not ids and not tx_ids:
        raise invalid_param(
            "Query parameter 'from_date' must be set to a valid DateTime, or 'envelope_ids' or "
            "'transaction_ids' must be specified."
        )
    from_date = _parse_date(from_raw, "from_date") if from_raw else None
    to_date = _parse_date(q["to_date"], "to_date") if q.get("to_date") else None
    statuses = {s.lower() for s in _split(q.get("status"))}
    bad = statuses - STATUSES
    if bad:
        raise invalid_param(f"Query parameter 'status' has unknown value(s): {', '.join(sorted(bad))}.")
    count_raw, start_raw = q.get("count", "100"), q.get("start_position", "0")
    if not count_raw.isdigit() or not start_raw.isdigit() or int(count_raw) < 1:
        raise invalid_param(
            "Query parameters 'count' and 'start_position' must be non-negative integers (count at least 1)."
        )
    count, start = min(int(count_raw), 1000), int(start_raw)
    include = set(_split(q.get("include")))
    custom = q.get("custom_field")
    search = q.get("search_text")

    found: list[Envelope] = []
    for env in caller.emulator.state.envelopes.values():
        if env.account_id != accountId:
            continue
        if ids and env.envelope_id not in ids:
            continue
        changed = parse_time(env.last_modified_at)
        if from_date and changed < from_date:
            continue
        if to_date and changed > to_date:
            continue
        if statuses and not statuses & {"any", "changed"} and env.status not in statuses:
            continue
        if custom and not _matches_custom_field(env, custom):
            continue
        if search and not _matches_text(env, search):
            continue
        found.append(env)
    found.sort(key=lambda e: e.last_modified_at, reverse=q.get("order", "asc").lower() == "desc")
    page = found[start : start + count]
    users = caller.emulator.state.users
    body: dict[str, Any] = {
        "resultSetSize": str(len(page)),
        "totalSetSize": str(len(found)),
        "startPosition": str(start),
        "endPosition": str(start + len(page) - 1 if page else start),
        "envelopes": [envelope_json(e, users.get(e.sender_user_id), include=include) for e in page],
    }
    if start + len(page) < len(found):
        params = {k: v for k, v in q.items() if k != "start_position"}
        params["start_position"] = str(start + len(page))
        body["nextUri"] = f"/accounts/{accountId}/envelopes?{urlencode(params)}"
    if not found:
        body["envelopes"] = []
    return JSONResponse(body)


@router.get(BASE + "/{envelopeId}")
async def get_envelope(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    include = set(_split(request.query_params.get("include")))
    return JSONResponse(
        envelope_json(env, caller.emulator.state.users.get(env.sender_user_id), include=include)
    )


@router.put(BASE + "/{envelopeId}")
async def update_envelope(request: Request, accountId: str, envelopeId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    env = get_envelope_for(caller, envelopeId)
    body = await json_body(request, required=False)
    resend = request.query_params.get("resend_envelope", "").lower() == "true"
    status = str(body.get("status") or "").lower() or None
    emu = caller.emulator
    if status not in (None, "created", "sent", "voided", env.status):
        raise invalid_param("Value for 'status' must be 'created', 'sent' or 'voided'.")
    if status == "sent" and is_terminal(env.status):
        raise DocuSignError("ENVELOPE_INVALID_STATUS", f"A '{env.status}' envelope cannot be sent again.")
    if status == "created" and env.status != "created":
        raise DocuSignError("ENVELOPE_INVALID_STATUS", f"A '{env.status}' envelope cannot go back to draft.")
    if ("emailSubject" in body or "emailBlurb" in body) and env.status != "created":
        raise DocuSignError(
            "ENVELOPE_INVALID_STATUS",
            "The email subject and message of a sent envelope can only be changed by correction.",
        )
    if status == "voided" and env.status != "voided":
        workflow.void(emu, env, body.get("voidedReason"))
    elif status == "voided":
        raise DocuSignError(
            "ENVELOPE_CANNOT_VOID_INVALID_STATE",
            "Only envelopes in the 'Sent' or 'Delivered' states may be voided.",
        )
    elif status == "sent" and env.status == "created":
        before = (env.email_subject, env.email_blurb)
        _apply_text(env, body)
        try:
            workflow.send(emu, env)
        except DocuSignError:
            env.email_subject, env.email_blurb = before
            raise
    elif resend:
        workflow.resend(emu, env)
    elif env.status == "created" and _apply_text(env, body):
        emu.changed()
    return JSONResponse({"envelopeId": env.envelope_id})


def _apply_text(env: Envelope, body: dict[str, Any]) -> bool:
    changed = False
    for key, attr in (("emailSubject", "email_subject"), ("emailBlurb", "email_blurb")):
        if key in body and body[key] is not None:
            setattr(env, attr, str(body[key]))
            changed = True
    return changed
