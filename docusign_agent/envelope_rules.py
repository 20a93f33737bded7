"""DocuSign's envelope and recipient statuses, and the rules every floor applies to them.

The tools, the mirror, the Connect worker and the emulator all ask the same questions (is this envelope
finished? does this state replace the one we hold?), so the answers live here once, as data and pure
functions, with no I/O.

Ordering: an envelope state is newer by DocuSign's `statusChangedDateTime`, then by the event's
`generatedDateTime`, then by how far the status is along the lifecycle; a terminal status (completed,
declined, voided...) never gives way to a non-terminal one, whatever order Connect delivers events in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# Every envelope status DocuSign reports (eSignature REST v2.1 `envelope.status`).
ENVELOPE_STATUSES = (
    "created", "sent", "delivered", "signed", "completed", "declined", "voided", "deleted", "correct",
    "authoritativecopy", "transfercompleted", "template", "timedout", "processing",
)
RECIPIENT_STATUSES = (
    "created", "sent", "delivered", "signed", "completed", "declined", "autoresponded", "faxpending",
    "correct", "voided",
)

# Nothing more can happen to an envelope in one of these: nobody signs, reminds, corrects or voids it.
TERMINAL_ENVELOPE_STATUSES = frozenset({"completed", "declined", "voided", "deleted", "timedout", "transfercompleted"})
# How far along the lifecycle a status is; breaks ties between states stamped with the same times.
ENVELOPE_RANK = {
    "template": 0, "created": 1, "correct": 2, "processing": 2, "sent": 3, "delivered": 4, "signed": 5,
    "completed": 6, "declined": 6, "voided": 6, "timedout": 6, "authoritativecopy": 7, "transfercompleted": 7,
    "deleted": 8,
}
# A recipient who has signed or declined never goes back to sent/delivered.
TERMINAL_RECIPIENT_STATUSES = frozenset({"signed", "completed", "declined"})
RECIPIENT_RANK = {
    "created": 0, "correct": 1, "faxpending": 1, "sent": 2, "autoresponded": 2, "delivered": 3, "signed": 4,
    "completed": 5, "declined": 5, "voided": 5,
}

# The hidden text custom field the agent stamps on every envelope it creates. DocuSign echoes it in Connect
# events (includeData custom_fields) and searches by it, which is how a retried create finds the envelope it
# may already have made, and how an event is matched to the user whose request created the envelope.
REQUEST_ID_FIELD = "dsa_request_id"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OrderKey = tuple[dt.datetime, dt.datetime, int]


def is_terminal(status: str | None) -> bool:
    return (status or "").lower() in TERMINAL_ENVELOPE_STATUSES


def envelope_order(status: str | None, status_changed_at: dt.datetime | None,
                   event_at: dt.datetime | None) -> OrderKey:
    """Sort key of an envelope state: DocuSign's statusChangedDateTime, then the event's generatedDateTime.

    The status time comes first because it belongs to the state itself (a retried or regenerated delivery of an
    old state keeps it); the generation time orders changes that leave the envelope status alone (a recipient
    signing while the envelope stays `sent`).
    """
    return (status_changed_at or _EPOCH, event_at or _EPOCH, ENVELOPE_RANK.get(status or "", 0))


def envelope_may_change(current_status: str | None, current_key: tuple[Any, ...] | None, new_status: str,
                        new_key: tuple[Any, ...]) -> bool:
    """Whether a state with `new_key` replaces the stored one: newer wins, and terminal states are final."""
    if current_status is None or current_key is None:
        return True
    if is_terminal(current_status) and not is_terminal(new_status):
        return False
    return new_key >= current_key


def status_advances(current_status: str, new_status: str) -> bool:
    """Whether a status reported without DocuSign's time (the agent's own record of what it just did) replaces
    the stored one: only forward along the lifecycle, never out of a terminal status."""
    return not is_terminal(current_status) and ENVELOPE_RANK.get(new_status, 0) > ENVELOPE_RANK.get(current_status, 0)


def recipient_may_change(current_status: str | None, current_at: dt.datetime | None, new_status: str,
                         new_at: dt.datetime | None) -> bool:
    """Per recipient: the state with the later own timestamp wins (rank breaks ties); signed/declined are final."""
    if current_status is None:
        return True
    if current_status in TERMINAL_RECIPIENT_STATUSES and new_status not in TERMINAL_RECIPIENT_STATUSES:
        return False
    return (new_at or _EPOCH, RECIPIENT_RANK.get(new_status, 0)) >= (
        current_at or _EPOCH, RECIPIENT_RANK.get(current_status, 0))
