"""Connect: account configurations over DocuSign's REST API, and JSON SIM events from envelope changes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from docusign_agent.docusign_time import format_time
from emulator.accounts import require_account
from emulator.dispatcher import Delivery
from emulator.errors import DocuSignError, invalid_param, json_body
from emulator.runtime import Emulator
from emulator.state import Account, Envelope, Recipient
from emulator.views import envelope_json

router = APIRouter()

ENVELOPE_EVENTS = {
    "created",
    "sent",
    "resent",
    "delivered",
    "completed",
    "declined",
    "voided",
    "corrected",
    "purge",
    "deleted",
    "discard",
    "reminder-sent",
}
RECIPIENT_EVENTS = {
    "sent",
    "autoresponded",
    "delivered",
    "completed",
    "declined",
    "authenticationfailed",
    "resent",
    "reassign",
    "finish-later",
    "delegate",
}
KNOWN_EVENTS = {f"envelope-{e}" for e in ENVELOPE_EVENTS} | {f"recipient-{e}" for e in RECIPIENT_EVENTS}
DEFAULT_EVENTS = KNOWN_EVENTS - {"envelope-created"}


def _legacy(prefix: str, names: list[Any]) -> set[str]:
    out: set[str] = set()
    for item in names:
        if isinstance(item, dict):
            item = item.get("envelopeEventStatusCode") or item.get("recipientEventStatusCode")
        if isinstance(item, str) and item.strip():
            out.add(f"{prefix}-{item.strip().lower()}")
    return out


def subscribed(cfg: dict[str, Any]) -> set[str]:
    """Events a configuration wants: new-style `events`, or legacy envelopeEvents/recipientEvents."""
    events = {e.strip().lower() for e in cfg.get("events") or [] if isinstance(e, str)}
    events |= _legacy("envelope", cfg.get("envelopeEvents") or [])
    events |= _legacy("recipient", cfg.get("recipientEvents") or [])
    return events or set(DEFAULT_EVENTS)


def validate_events(cfg: dict[str, Any]) -> None:
    for key in ("events", "envelopeEvents", "recipientEvents"):
        value = cfg.get(key)
        if value is not None and not isinstance(value, list):
            raise invalid_param(f"'{key}' must be a list.")
    unknown = sorted(subscribed(cfg) - KNOWN_EVENTS)
    if unknown:
        raise invalid_param(f"Unknown Connect event(s): {', '.join(unknown)}.")


def validate_url(url: Any, field: str) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise invalid_param(f"'{field}' must be an absolute http(s) URL.")
    return url


def _wants(cfg: dict[str, Any], key: str, default: bool) -> bool:
    value = cfg.get(key)
    if value is None:
        return default
    return str(value).lower() == "true"


def _summary(emu: Emulator, env: Envelope, cfg: dict[str, Any]) -> dict[str, Any]:
    include_data = (cfg.get("eventData") or {}).get("includeData")
    parts = {"recipients", "custom_fields"} if include_data is None else {str(p) for p in include_data}
    sender = emu.state.users.get(env.sender_user_id)
    return envelope_json(
        env, sender, include={p for p in parts if p in ("recipients", "custom_fields", "tabs")}
    )


def build_event(
    emu: Emulator,
    env: Envelope,
    event: str,
    recipient: Recipient | None,
    cfg: dict[str, Any],
    configuration_id: int,
) -> dict[str, Any]:
    return {
        "event": event,
        "uri": f"/restapi/v2.1/accounts/{env.account_id}/envelopes/{env.envelope_id}",
        "retryCount": 0,
        "configurationId": configuration_id,
        "apiVersion": "v2.1",
        "generatedDateTime": format_time(),
        "data": {
            "accountId": env.account_id,
            "userId": env.sender_user_id,
            "recipientId": recipient.recipient_id if recipient else "",
            "envelopeId": env.envelope_id,
            "envelopeSummary": _summary(emu, env, cfg),
        },
    }


def publish(emu: Emulator, env: Envelope, event: str, recipient: Recipient | None = None) -> int:
    """Queue the event for every configuration that wants it; returns how many deliveries were queued."""
    account = emu.state.accounts.get(env.account_id)
    if account is None:
        return 0
    queued = 0
    targets: list[tuple[dict[str, Any], str, int]] = []
    for connect_id, cfg in account.connect_configs.items():
        if str(cfg.get("allowEnvelopePublish", "true")).lower() != "true":
            continue
        users = cfg.get("userIds") or []
        if not _wants(cfg, "allUsers", True) and env.sender_user_id not in users:
            continue
        targets.append((cfg, cfg["urlToPublishTo"], int(connect_id)))
    if env.event_notification and env.event_notification.get("url"):
        targets.append((env.event_notification, env.event_notification["url"], 0))
    for cfg, url, configuration_id in targets:
        if event not in subscribed(cfg):
            continue
        keys = list(account.hmac_keys) if _wants(cfg, "includeHMAC", False) else []
        payload = build_event(emu, env, event, recipient, cfg, configuration_id)
        emu.dispatcher.submit(Delivery(url=url, payload=payload, hmac_keys=keys))
        queued += 1
    return queued


# --- REST: /restapi/v2.1/accounts/{accountId}/connect ---------------------------------------------------

_STRING_FIELDS = (
    "name",
    "urlToPublishTo",
    "allUsers",
    "includeHMAC",
    "allowEnvelopePublish",
    "enableLog",
    "requiresAcknowledgement",
    "includeDocuments",
    "includeCertificateOfCompletion",
    "includeEnvelopeVoidReason",
    "includeTimeZoneInformation",
    "includeDocumentFields",
    "includeSenderAccountasCustomField",
    "deliveryMode",
    "signMessageWithX509Certificate",
    "useSoapInterface",
    "configurationType",
)


def _normalise(
    body: dict[str, Any], connect_id: str, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    cfg: dict[str, Any] = dict(previous or {})
    for key in _STRING_FIELDS:
        if key in body and body[key] is not None:
            value = body[key]
            cfg[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    for key in ("events", "envelopeEvents", "recipientEvents", "userIds"):
        if key in body and body[key] is not None:
            cfg[key] = list(body[key])
    if isinstance(body.get("eventData"), dict):
        cfg["eventData"] = dict(body["eventData"])
    cfg["connectId"] = connect_id
    cfg.setdefault("configurationType", "custom")
    cfg.setdefault("allUsers", "true")
    cfg.setdefault("allowEnvelopePublish", "true")
    cfg.setdefault("deliveryMode", "SIM")
    cfg.setdefault("name", f"Connect {connect_id}")
    validate_url(cfg.get("urlToPublishTo"), "urlToPublishTo")
    validate_events(cfg)
    if "eventData" in cfg and not isinstance(cfg["eventData"].get("includeData", []), list):
        raise invalid_param("'eventData.includeData' must be a list.")
    return cfg


def _find(account: Account, connect_id: str) -> dict[str, Any]:
    cfg = account.connect_configs.get(connect_id)
    if cfg is None:
        raise DocuSignError(
            "INVALID_CONNECT_CONFIG_ID", f"The Connect configuration '{connect_id}' does not exist.", 404
        )
    return cfg


@router.post("/restapi/v2.1/accounts/{accountId}/connect")
async def create_configuration(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    body = await json_body(request)
    account = caller.account
    connect_id = str(account.next_connect_id)
    cfg = _normalise(body, connect_id)
    account.next_connect_id += 1
    account.connect_configs[connect_id] = cfg
    caller.emulator.changed()
    return JSONResponse(cfg, status_code=201)


@router.put("/restapi/v2.1/accounts/{accountId}/connect")
async def update_configuration(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    body = await json_body(request)
    connect_id = str(body.get("connectId") or "")
    if not connect_id:
        raise invalid_param("'connectId' is required to update a Connect configuration.")
    previous = _find(caller.account, connect_id)
    cfg = _normalise(body, connect_id, previous)
    caller.account.connect_configs[connect_id] = cfg
    caller.emulator.changed()
    return JSONResponse(cfg)


@router.get("/restapi/v2.1/accounts/{accountId}/connect")
async def list_configurations(request: Request, accountId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    configs = list(caller.account.connect_configs.values())
    return JSONResponse({"configurations": configs, "totalRecords": str(len(configs))})


@router.get("/restapi/v2.1/accounts/{accountId}/connect/{connectId}")
async def get_configuration(request: Request, accountId: str, connectId: str) -> JSONResponse:
    caller = require_account(request, accountId)
    cfg = _find(caller.account, connectId)
    return JSONResponse({"configurations": [cfg], "totalRecords": "1"})


@router.delete("/restapi/v2.1/accounts/{accountId}/connect/{connectId}")
async def delete_configuration(request: Request, accountId: str, connectId: str) -> Response:
    caller = require_account(request, accountId)
    _find(caller.account, connectId)
    del caller.account.connect_configs[connectId]
    caller.emulator.changed()
    return Response(status_code=200)
