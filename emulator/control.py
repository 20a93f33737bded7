"""Control endpoints (not part of DocuSign): set up users and integrations, act as recipients, tune knobs,
inject faults. Tests, demos and the eval runner steer the emulator through these.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, fields
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator import workflow
from emulator.accounts import create_or_get_user
from emulator.builder import EMAIL
from emulator.errors import DocuSignError, invalid_param, json_body
from emulator.runtime import emulator_of, root_url
from emulator.state import EmulatorConfig, Envelope, Integration, write_snapshot

router = APIRouter()
RATE_KEYS = {"rate_limit_per_hour", "burst_limit_per_30s", "answer_429"}


def _str(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid_param(f"'{key}' must be a non-empty string.")
    return value.strip()


@router.post("/users")
async def create_user(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    email = _str(body, "email") or ""
    if not EMAIL.match(email):
        raise invalid_param("'email' must be a valid email address.")
    name = _str(body, "name", required=False)
    user, created = create_or_get_user(emu.state, email, name)
    emu.changed()
    return JSONResponse(
        {
            "user_id": user.user_id,
            "account_id": user.account_ids[0],
            "base_uri": root_url(request),
            "email": user.email,
            "name": user.name,
            "created": created,
        },
        status_code=201 if created else 200,
    )


@router.post("/integrations")
async def register_integration(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    key = _str(body, "integration_key") or ""
    secret = _str(body, "secret_key", required=False)
    pem = _str(body, "public_key_pem", required=False)
    if pem is not None:
        try:
            load_pem_public_key(pem.encode())
        except (ValueError, TypeError) as exc:
            raise invalid_param(f"'public_key_pem' is not a PEM public key: {exc}") from exc
    uris = body.get("redirect_uris", [])
    if not isinstance(uris, list) or not all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in uris
    ):
        raise invalid_param("'redirect_uris' must be a list of absolute http(s) URLs.")
    auto = body.get("auto_consent", False)
    if not isinstance(auto, bool):
        raise invalid_param("'auto_consent' must be a boolean.")
    emu.state.integrations[key] = Integration(key, secret, pem, list(uris), auto)
    emu.changed()
    return JSONResponse(
        {
            "integration_key": key,
            "redirect_uris": uris,
            "auto_consent": auto,
            "has_secret": secret is not None,
            "has_public_key": pem is not None,
        },
        status_code=201,
    )


@router.post("/consent")
async def grant_consent(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    key, user_id = _str(body, "integration_key") or "", _str(body, "user_id") or ""
    if key not in emu.state.integrations:
        raise invalid_param(f"Unknown integration_key {key!r}.")
    if user_id not in emu.state.users:
        raise invalid_param(f"Unknown user_id {user_id!r}.")
    emu.state.grant_consent(key, user_id)
    emu.changed()
    return JSONResponse({"integration_key": key, "user_id": user_id, "consented": True})


@router.get("/config")
async def get_config(request: Request) -> JSONResponse:
    return JSONResponse(asdict(emulator_of(request).config()))


@router.post("/config")
async def set_config(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    types = {f.name: f.type for f in fields(EmulatorConfig)}
    current = asdict(emu.config())
    unknown = sorted(set(body) - set(types))
    if unknown:
        raise invalid_param(f"Unknown config key(s): {', '.join(unknown)}.")
    for key, value in body.items():
        kind = types[key]
        ok = (
            (kind == "bool" and isinstance(value, bool))
            or (kind == "int" and isinstance(value, int) and not isinstance(value, bool) and value >= 0)
            or (
                kind == "float"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and value >= 0
            )
        )
        if key == "connect_duplicate_rate" and ok and value > 1:
            ok = False
        if not ok:
            raise invalid_param(
                f"'{key}' must be a non-negative {kind}{' between 0 and 1' if 'rate' in key else ''}."
            )
        current[key] = float(value) if kind == "float" else value
    emu.state.config = EmulatorConfig(**current)
    if RATE_KEYS & set(body):
        emu.limiter.reset()
    emu.changed()
    return JSONResponse(asdict(emu.state.config))


def _envelope(request: Request, envelope_id: str) -> Envelope:
    env = emulator_of(request).state.envelopes.get(envelope_id)
    if env is None:
        raise DocuSignError("ENVELOPE_DOES_NOT_EXIST", f"Envelope {envelope_id} does not exist.", 404)
    return env


def _internal(env: Envelope) -> dict[str, Any]:
    data = asdict(env)
    for doc in data["documents"]:
        doc["size_bytes"] = len(doc.pop("pdf_base64")) * 3 // 4
    return data


@router.get("/envelopes/{envelope_id}")
async def envelope_state(request: Request, envelope_id: str) -> JSONResponse:
    return JSONResponse(_internal(_envelope(request, envelope_id)))


@router.post("/envelopes/{envelope_id}/sign")
async def sign(request: Request, envelope_id: str) -> JSONResponse:
    emu, env = emulator_of(request), _envelope(request, envelope_id)
    body = await json_body(request)
    rid = str(body.get("recipient_id") or "").strip()
    if not rid:
        raise invalid_param("'recipient_id' is required.")
    r = workflow.sign(emu, env, rid)
    return JSONResponse(
        {
            "envelope_id": env.envelope_id,
            "status": env.status,
            "recipient_id": r.recipient_id,
            "recipient_status": r.status,
        }
    )


@router.post("/envelopes/{envelope_id}/decline")
async def decline(request: Request, envelope_id: str) -> JSONResponse:
    emu, env = emulator_of(request), _envelope(request, envelope_id)
    body = await json_body(request)
    rid = str(body.get("recipient_id") or "").strip()
    if not rid:
        raise invalid_param("'recipient_id' is required.")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise invalid_param("'reason' must be a non-empty string.")
    r = workflow.decline(emu, env, rid, reason)
    return JSONResponse(
        {
            "envelope_id": env.envelope_id,
            "status": env.status,
            "recipient_id": r.recipient_id,
            "recipient_status": r.status,
        }
    )


@router.post("/faults")
async def add_fault(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    try:
        fault = emu.faults.add(body)
    except ValueError as exc:
        raise invalid_param(str(exc)) from exc
    return JSONResponse(fault.describe(), status_code=201)


@router.get("/faults")
async def list_faults(request: Request) -> JSONResponse:
    return JSONResponse({"faults": [f.describe() for f in emulator_of(request).faults.faults]})


@router.delete("/faults")
async def clear_faults(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    removed = len(emu.faults.faults)
    emu.faults.faults.clear()
    return JSONResponse({"removed": removed})


@router.get("/requests")
async def requests_log(request: Request, account_id: str | None = None, after: int = 0) -> JSONResponse:
    """The eSignature REST requests answered so far (optionally one account's, after a `seq` mark), oldest first,
    and `last_seq` to take as the next mark."""
    if after < 0:
        raise invalid_param("'after' must be a non-negative integer.")
    log = emulator_of(request).requests
    return JSONResponse({"last_seq": log.last_seq,
                         "requests": [e.as_json() for e in log.select(account_id=account_id, after=after)]})


@router.post("/snapshot")
async def snapshot(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    if emu.snapshot_path is None:
        raise DocuSignError("SNAPSHOT_NOT_CONFIGURED", "The emulator was started without a snapshot path.")
    await asyncio.to_thread(write_snapshot, emu.state, emu.snapshot_path)
    return JSONResponse({"path": str(emu.snapshot_path), "envelopes": len(emu.state.envelopes)})


@router.post("/connect/hmac_keys")
async def set_hmac_keys(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    account_id = _str(body, "account_id") or ""
    account = emu.state.accounts.get(account_id)
    if account is None:
        raise invalid_param(f"Unknown account_id {account_id!r}.")
    keys = body.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys) or len(keys) > 100:
        raise invalid_param(
            "'keys' must be a list of up to 100 non-empty strings (empty list disables signing)."
        )
    account.hmac_keys = list(keys)
    emu.changed()
    return JSONResponse({"account_id": account_id, "key_count": len(keys)})


@router.get("/connect/deliveries")
async def deliveries(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    return JSONResponse({"idle": emu.dispatcher.idle, "deliveries": [asdict(d) for d in emu.dispatcher.log]})
