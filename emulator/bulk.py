"""Bulk send: lists, batches, and the background job that turns each list row into a real sent envelope."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from docusign_agent.docusign_time import format_time
from emulator.accounts import Caller, require_account
from emulator.builder import EMAIL
from emulator.envelopes import create_and_maybe_send
from emulator.errors import DocuSignError, invalid_param, json_body
from emulator.state import BulkBatch, BulkList, Envelope, Template, new_id
from emulator.views import envelope_json

router = APIRouter()
BASE = "/restapi/v2.1/accounts/{accountId}"


def _validate_copies(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise invalid_param("'bulkCopies' must be a non-empty list.")
    copies: list[dict[str, Any]] = []
    for row, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise invalid_param(f"Bulk copy {row} must be an object.")
        recipients = item.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise invalid_param(f"Bulk copy {row} needs at least one recipient.")
        for r in recipients:
            if not isinstance(r, dict) or not (r.get("roleName") or r.get("recipientId")):
                raise invalid_param(f"Each recipient of bulk copy {row} needs a 'roleName' or 'recipientId'.")
            if not str(r.get("name") or "").strip():
                raise invalid_param(f"A recipient of bulk copy {row} has no name.")
            if not EMAIL.match(str(r.get("email") or "")):
                raise DocuSignError(
                    "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
                    f"The email address for the recipient is invalid. Bulk copy {row}: {r.get('email')!r}.",
                )
        fields = item.get("customFields") or []
        if not isinstance(fields, list) or any(not isinstance(f, dict) or not f.get("name") for f in fields):
            raise invalid_param(f"'customFields' of bulk copy {row} must be a list of {{name, value}}.")
        copies.append(copy.deepcopy(item))
    return copies


def _list_json(lst: BulkList) -> dict[str, Any]:
    return {"listId": lst.list_id, "name": lst.name, "bulkCopies": lst.bulk_copies}


def _get_list(caller: Caller, list_id: str) -> BulkList:
    lst = caller.emulator.state.bulk_lists.get(list_id)
    if lst is None or lst.account_id != caller.account.account_id:
        raise DocuSignError("BULK_SEND_LIST_NOT_FOUND", f"Bulk send list {list_id} does not exist.", 404)
    return lst


@router.post(BASE + "/bulk_send_lists")
async def create_list(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    body = await json_body(request)
    name = str(body.get("name") or "").strip()
    if not name:
        raise invalid_param("'name' is required for a bulk send list.")
    lst = BulkList(new_id(), accountId, name, _validate_copies(body.get("bulkCopies")))
    caller.emulator.state.bulk_lists[lst.list_id] = lst
    caller.emulator.changed()
    return JSONResponse(_list_json(lst), status_code=201)


@router.get(BASE + "/bulk_send_lists")
async def list_lists(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    lists = [lst for lst in caller.emulator.state.bulk_lists.values() if lst.account_id == accountId]
    return JSONResponse(
        {
            "bulkListSummaries": [
                {"bulkSendListId": lst.list_id, "name": lst.name, "createdByUser": caller.user.user_id}
                for lst in lists
            ]
        }
    )


@router.get(BASE + "/bulk_send_lists/{listId}")
async def get_list(request: Request, accountId: str, listId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    return JSONResponse(_list_json(_get_list(caller, listId)))


def _source(caller: Caller, source_id: str) -> Template | Envelope:
    state = caller.emulator.state
    tpl = state.templates.get(source_id)
    if tpl is not None and tpl.account_id == caller.account.account_id:
        return tpl
    env = state.envelopes.get(source_id)
    if env is not None and env.account_id == caller.account.account_id:
        if env.status != "created":
            raise DocuSignError(
                "BULK_SEND_ENVELOPE_NOT_IN_SENDABLE_STATE",
                f"Envelope {source_id} must be a draft to be used for bulk send; it is '{env.status}'.",
            )
        return env
    raise invalid_param(
        f"'envelopeOrTemplateId' {source_id} is neither a template nor a draft envelope of this account."
    )


def _copy_body(source: Template | Envelope, row: dict[str, Any], batch: BulkBatch) -> dict[str, Any]:
    roles = {r.role_name: r for r in source.recipients if r.role_name}
    by_id = {r.recipient_id: r for r in source.recipients}
    fields = [{"name": f["name"], "value": str(f.get("value", ""))} for f in row.get("customFields") or []]
    if isinstance(source, Envelope):
        fields = [dict(f) for f in source.text_custom_fields] + fields
    fields.append({"name": "BulkBatchId", "value": batch.batch_id})
    body: dict[str, Any] = {
        "status": "sent",
        "customFields": {"textCustomFields": fields},
        "emailSubject": row.get("emailSubject") or source.email_subject,
        "emailBlurb": row.get("emailBlurb") or source.email_blurb,
    }
    if isinstance(source, Template):
        body["templateId"] = source.template_id
        body["templateRoles"] = [
            {
                "roleName": r.get("roleName") or by_id[str(r["recipientId"])].role_name,
                "name": r["name"],
                "email": r["email"],
                "clientUserId": r.get("clientUserId"),
            }
            for r in row["recipients"]
        ]
        return body
    signers, ccs = [], []
    overrides = {}
    for r in row["recipients"]:
        target = roles.get(r.get("roleName")) or by_id.get(str(r.get("recipientId")))
        if target is not None:
            overrides[target.recipient_id] = r
    for base in source.recipients:
        over = overrides.get(base.recipient_id, {})
        tabs = {
            k: [{kk: vv for kk, vv in t.items() if kk != "tabId"} for t in v] for k, v in base.tabs.items()
        }
        entry = {
            "recipientId": base.recipient_id,
            "name": over.get("name", base.name),
            "email": over.get("email", base.email),
            "routingOrder": str(base.routing_order),
            "roleName": base.role_name,
            "clientUserId": over.get("clientUserId", base.client_user_id),
            "tabs": tabs,
        }
        (signers if base.kind == "signer" else ccs).append(entry)
    body["documents"] = [
        {"documentId": d.document_id, "name": d.name, "documentBase64": d.pdf_base64, "order": str(d.order)}
        for d in source.documents
    ]
    body["recipients"] = {"signers": signers, "carbonCopies": ccs}
    if source.event_notification:
        body["eventNotification"] = source.event_notification
    return body


def _check_rows(source: Template | Envelope, rows: list[dict[str, Any]]) -> None:
    roles = {r.role_name for r in source.recipients if r.role_name}
    ids = {r.recipient_id for r in source.recipients}
    for number, row in enumerate(rows, start=1):
        for r in row["recipients"]:
            if r.get("roleName") and r["roleName"] not in roles:
                raise invalid_param(
                    f"Bulk copy {number}: role '{r['roleName']}' is not a role of the template or envelope."
                )
            if not r.get("roleName") and str(r.get("recipientId")) not in ids:
                raise invalid_param(
                    f"Bulk copy {number}: recipientId {r.get('recipientId')} is not in the envelope."
                )


async def _run_batch(
    caller: Caller, source: Template | Envelope, rows: list[dict[str, Any]], batch: BulkBatch
) -> None:
    for row in rows:
        await asyncio.sleep(caller.emulator.config().bulk_send_delay_seconds)
        try:
            env = create_and_maybe_send(caller, _copy_body(source, row, batch))
            env.bulk_batch_id = batch.batch_id
            batch.envelope_ids.append(env.envelope_id)
        except DocuSignError as exc:
            batch.errors.append(
                {
                    "created": format_time(),
                    "errorMessage": f"{exc.code}: {exc.message}",
                    "recipientEmails": [str(r.get("email")) for r in row["recipients"]],
                }
            )
        batch.done += 1
        caller.emulator.changed()


@router.post(BASE + "/bulk_send_lists/{listId}/send")
async def send_batch(request: Request, accountId: str, listId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    lst = _get_list(caller, listId)
    body = await json_body(request)
    source_id = str(body.get("envelopeOrTemplateId") or "").strip()
    if not source_id:
        raise invalid_param("'envelopeOrTemplateId' is required.")
    source = _source(caller, source_id)
    _check_rows(source, lst.bulk_copies)
    batch = BulkBatch(
        new_id(),
        accountId,
        lst.list_id,
        str(body.get("batchName") or lst.name),
        source_id,
        caller.user.user_id,
        len(lst.bulk_copies),
    )
    caller.emulator.state.bulk_batches[batch.batch_id] = batch
    caller.emulator.spawn(
        _run_batch(caller, source, copy.deepcopy(lst.bulk_copies), batch), f"bulk-{batch.batch_id}"
    )
    caller.emulator.changed()
    return JSONResponse(
        {
            "batchId": batch.batch_id,
            "batchName": batch.batch_name,
            "batchSize": str(batch.size),
            "envelopeOrTemplateId": source_id,
            "errorDetails": [],
            "errors": [],
            "queueLimit": "2000",
            "totalQueued": str(batch.size),
        },
        status_code=201,
    )


def _batch(caller: Caller, batch_id: str) -> BulkBatch:
    batch = caller.emulator.state.bulk_batches.get(batch_id)
    if batch is None or batch.account_id != caller.account.account_id:
        raise DocuSignError("BULK_SEND_BATCH_NOT_FOUND", f"Bulk send batch {batch_id} does not exist.", 404)
    return batch


BATCH_LIST_STATUSES = ("all", "failed", "sent", "queued")


def _batch_summary(batch: BulkBatch) -> dict[str, str]:
    return {"batchId": batch.batch_id, "batchName": batch.batch_name, "batchSize": str(batch.size),
            "batchUri": f"/bulk_send_batch/{batch.batch_id}", "failed": str(len(batch.errors)),
            "queued": str(batch.size - batch.done), "sent": str(len(batch.envelope_ids)),
            "submittedDate": batch.submitted_at}


@router.get(BASE + "/bulk_send_batch")
async def list_batches(request: Request, accountId: str) -> JSONResponse:
    """`GET bulk_send_batch`: the account's batches, newest first, filtered by ids, name text and status."""
    caller = require_account(request, accountId)
    query = request.query_params
    status = (query.get("status") or "all").lower()
    if status not in BATCH_LIST_STATUSES:
        raise invalid_param(f"status must be one of {', '.join(BATCH_LIST_STATUSES)}.")
    try:
        count = int(query.get("count") or 100)
        start = int(query.get("start_position") or 0)
    except ValueError:
        raise invalid_param("count and start_position must be integers.") from None
    if not 1 <= count <= 100 or start < 0:
        raise invalid_param("count must be 1 to 100 and start_position 0 or more.")
    ids = {i.strip() for i in (query.get("batch_ids") or "").split(",") if i.strip()}
    text = (query.get("search_text") or "").lower()
    batches = [b for b in caller.emulator.state.bulk_batches.values()
               if b.account_id == caller.account.account_id and (not ids or b.batch_id in ids)
               and text in b.batch_name.lower()
               and (status == "all" or (status == "failed" and b.errors) or (status == "queued" and b.done < b.size)
                    or (status == "sent" and b.envelope_ids))]
    batches.sort(key=lambda b: b.submitted_at, reverse=True)
    page = batches[start:start + count]
    return JSONResponse({
        "batchSizeLimit": "1000", "bulkBatchSummaries": [_batch_summary(b) for b in page],
        "bulkProcessQueueLimit": "2000", "bulkProcessTotalQueued": str(sum(b.size - b.done for b in batches)),
        "endPosition": str(start + max(0, len(page) - 1)), "queueLimit": "2000", "resultSetSize": str(len(page)),
        "startPosition": str(start), "totalQueued": str(sum(b.size - b.done for b in batches)),
        "totalSetSize": str(len(batches)),
    })


@router.get(BASE + "/bulk_send_batch/{batchId}")
async def batch_status(request: Request, accountId: str, batchId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    batch = _batch(caller, batchId)
    envs = [
        caller.emulator.state.envelopes[i] for i in batch.envelope_ids if i in caller.emulator.state.envelopes
    ]
    counts = {s: str(sum(1 for e in envs if e.status == s)) for s in ("completed", "declined", "voided")}
    lst = caller.emulator.state.bulk_lists.get(batch.list_id)
    return JSONResponse(
        {
            "batchId": batch.batch_id,
            "batchName": batch.batch_name,
            "batchSize": str(batch.size),
            "sent": str(len(batch.envelope_ids)),
            "failed": str(len(batch.errors)),
            "queued": str(batch.size - batch.done),
            "bulkErrors": batch.errors,
            "envelopesInfo": counts,
            "envelopesUri": f"/bulk_send_batch/{batch.batch_id}/envelopes",
            "envelopeIdOrTemplateId": batch.envelope_or_template_id,
            "mailingListId": batch.list_id,
            "mailingListName": lst.name if lst else "",
            "ownerUserId": batch.sender_user_id,
            "senderUserId": batch.sender_user_id,
            "submittedDate": batch.submitted_at,
            "action": "send",
            "actionStatus": "completed" if batch.done >= batch.size else "in_progress",
        }
    )


@router.get(BASE + "/bulk_send_batch/{batchId}/envelopes")
async def batch_envelopes(request: Request, accountId: str, batchId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    batch = _batch(caller, batchId)
    state = caller.emulator.state
    envs = [state.envelopes[i] for i in batch.envelope_ids if i in state.envelopes]
    return JSONResponse(
        {
            "resultSetSize": str(len(envs)),
            "totalSetSize": str(len(envs)),
            "startPosition": "0",
            "endPosition": str(max(0, len(envs) - 1)),
            "envelopes": [envelope_json(e, state.users.get(e.sender_user_id)) for e in envs],
        }
    )
