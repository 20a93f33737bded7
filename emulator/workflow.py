"""The envelope state machine: routing order, completion and the terminal states, each change audited and
published to Connect exactly once. REST routes, the signing page and control endpoints all go through here.

Every check runs before the first mutation, so a refused action changes nothing.
"""

from __future__ import annotations

from docusign_agent.docusign_time import format_time
from docusign_agent.envelope_rules import is_terminal
from emulator.connect import publish
from emulator.errors import DocuSignError, unknown_recipient
from emulator.runtime import Emulator
from emulator.state import AuditEvent, Envelope, Recipient

ACTIVE = ("sent", "delivered")


def audit(emu: Emulator, env: Envelope, action: str, who: str, message: str) -> None:
    env.audit.append(
        AuditEvent(action=action, at=format_time(), user_name=who, message=message, envelope_status=env.status)
    )


def _sender_name(emu: Emulator, env: Envelope) -> str:
    user = emu.state.users.get(env.sender_user_id)
    return user.name if user else "sender"


def _touch(env: Envelope, status: str | None = None) -> str:
    now = format_time()
    env.last_modified_at = now
    if status is not None and status != env.status:
        env.status = status
        env.status_changed_at = now
    return now


def pending_signer_order(env: Envelope) -> int | None:
    orders = [r.routing_order for r in env.recipients if r.kind == "signer" and r.status != "completed"]
    return min(orders) if orders else None


def _activate(env: Envelope) -> list[Recipient]:
    """Mark everyone whose turn has come as sent; the caller publishes events once the state is final."""
    current = pending_signer_order(env)
    now = format_time()
    activated = []
    for r in sorted(env.recipients, key=lambda x: x.routing_order):
        if r.status == "created" and (current is None or r.routing_order <= current):
            r.status = "sent"
            r.sent_at = now
            activated.append(r)
    return activated


def _route(emu: Emulator, env: Envelope, activated: list[Recipient] | None = None) -> None:
    """Activate everyone whose turn has come; complete the envelope when no signer is left."""
    for r in activated if activated is not None else _activate(env):
        publish(emu, env, "recipient-sent", r)
    if pending_signer_order(env) is None:
        _complete(emu, env)


def _complete(emu: Emulator, env: Envelope) -> None:
    now = _touch(env, "completed")
    env.completed_at = now
    for r in env.recipients:
        if r.kind == "carbonCopy" and r.status != "completed":
            r.status = "completed"
            r.delivered_at = r.delivered_at or now
    audit(emu, env, "Completed", _sender_name(emu, env), "The envelope was completed by all signers.")
    publish(emu, env, "envelope-completed")


def validate_sendable(env: Envelope) -> None:
    if not env.documents or not any(r.kind == "signer" for r in env.recipients) or not env.email_subject:
        raise DocuSignError(
            "ENVELOPE_IS_INCOMPLETE",
            "The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, "
            "and a Subject Line.",
        )


def send(emu: Emulator, env: Envelope) -> None:
    if env.status != "created":
        raise DocuSignError(
            "ENVELOPE_CANNOT_SEND_INVALID_STATE" if is_terminal(env.status) else "INVALID_REQUEST_PARAMETER",
            f"Only draft envelopes can be sent; this envelope is '{env.status}'.",
        )
    validate_sendable(env)
    now = _touch(env, "sent")
    env.sent_at = now
    env.initial_sent_at = env.initial_sent_at or now
    audit(emu, env, "Sent Invitations", _sender_name(emu, env), "The envelope was sent to its recipients.")
    activated = _activate(env)
    publish(emu, env, "envelope-sent")
    _route(emu, env, activated)
    emu.changed()


def find_recipient(env: Envelope, recipient_id: str) -> Recipient:
    r = next((x for x in env.recipients if x.recipient_id == str(recipient_id)), None)
    if r is None:
        raise unknown_recipient()
    return r


def _check_turn(env: Envelope, r: Recipient, verb: str) -> None:
    if env.status not in ACTIVE:
        raise DocuSignError(
            "ENVELOPE_INVALID_STATUS",
            f"Envelope {env.envelope_id} is '{env.status}'; recipients can only {verb} a sent envelope.",
        )
    if r.kind != "signer":
        raise DocuSignError(
            "RECIPIENT_NOT_SIGNER", f"Recipient {r.recipient_id} is a carbon copy and cannot {verb}."
        )
    if r.status in ("completed", "declined"):
        raise DocuSignError(
            "RECIPIENT_ALREADY_ACTED",
            f"Recipient {r.recipient_id} has already {'signed' if r.status == 'completed' else 'declined'}.",
        )
    current = pending_signer_order(env)
    if r.status not in ACTIVE or (current is not None and r.routing_order > current):
        raise DocuSignError(
            "RECIPIENT_NOT_IN_SEQUENCE",
            f"It is not recipient {r.recipient_id}'s turn: routing order {r.routing_order} waits until "
            f"every signer at routing order {current} has signed.",
        )


def deliver(emu: Emulator, env: Envelope, r: Recipient) -> None:
    """The recipient opened the envelope (signing page or control sign)."""
    if r.status != "sent":
        return
    now = _touch(env)
    r.status = "delivered"
    r.delivered_at = now
    audit(emu, env, "Viewed", r.name, f"{r.name} viewed the envelope.")
    publish(emu, env, "recipient-delivered", r)
    if env.status == "sent":
        _touch(env, "delivered")
        env.delivered_at = now
        publish(emu, env, "envelope-delivered")


def sign(emu: Emulator, env: Envelope, recipient_id: str) -> Recipient:
    r = find_recipient(env, recipient_id)
    _check_turn(env, r, "sign")
    deliver(emu, env, r)
    now = _touch(env)
    r.status = "completed"
    r.signed_at = now
    for tab in r.tabs.get("dateSignedTabs") or []:
        tab["value"] = now[:10]
    audit(emu, env, "Signed", r.name, f"{r.name} signed the envelope.")
    publish(emu, env, "recipient-completed", r)
    _route(emu, env)
    emu.changed()
    return r


def decline(emu: Emulator, env: Envelope, recipient_id: str, reason: str) -> Recipient:
    r = find_recipient(env, recipient_id)
    _check_turn(env, r, "decline")
    if not reason.strip():
        raise DocuSignError("INVALID_REQUEST_PARAMETER", "A decline reason is required.")
    deliver(emu, env, r)
    now = _touch(env, "declined")
    r.status = "declined"
    r.declined_at = now
    r.declined_reason = reason.strip()
    env.declined_at = now
    audit(emu, env, "Declined", r.name, f"{r.name} declined to sign: {r.declined_reason}")
    publish(emu, env, "recipient-declined", r)
    publish(emu, env, "envelope-declined")
    emu.changed()
    return r


def void(emu: Emulator, env: Envelope, reason: str | None) -> None:
    if not reason or not str(reason).strip():
        raise DocuSignError(
            "INVALID_REQUEST_PARAMETER",
            "The request contained at least one invalid parameter. "
            "Value for 'voidedReason' must be specified when voiding an envelope.",
        )
    if env.status not in ACTIVE:
        raise DocuSignError(
            "ENVELOPE_CANNOT_VOID_INVALID_STATE",
            "Only envelopes in the 'Sent' or 'Delivered' states may be voided.",
        )
    now = _touch(env, "voided")
    env.voided_at = now
    env.voided_reason = str(reason).strip()
    audit(emu, env, "Voided", _sender_name(emu, env), f"The envelope was voided: {env.voided_reason}")
    publish(emu, env, "envelope-voided")
    emu.changed()


def resend(emu: Emulator, env: Envelope) -> None:
    if env.status not in ACTIVE:
        raise DocuSignError(
            "ENVELOPE_INVALID_STATUS",
            f"Only sent or delivered envelopes can be resent; this envelope is '{env.status}'.",
        )
    _touch(env)
    audit(emu, env, "Resent", _sender_name(emu, env), "The envelope was resent to its current recipients.")
    publish(emu, env, "envelope-resent")
    for r in env.recipients:
        if r.status in ACTIVE:
            publish(emu, env, "recipient-resent", r)
    emu.changed()


def correct(emu: Emulator, env: Envelope, changes: list[tuple[Recipient, dict[str, str]]]) -> None:
    """Apply already-validated name/email changes."""
    _touch(env)
    for r, fields in changes:
        before = f"{r.name} <{r.email}>"
        r.name = fields.get("name", r.name)
        r.email = fields.get("email", r.email)
        audit(
            emu,
            env,
            "Corrected",
            _sender_name(emu, env),
            f"Recipient {r.recipient_id} corrected from {before} to {r.name} <{r.email}>.",
        )
    if env.status in ACTIVE:
        publish(emu, env, "envelope-corrected")
    emu.changed()
