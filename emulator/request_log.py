"""Every eSignature REST request the emulator answered, in order, for whoever must check what a client really did.

The eval suite reads it to judge approval compliance from what reached "DocuSign", not from what the agent says
it did: each entry has the account, method, path, query, the answer's status and trace token, and the `status`
field of a JSON body (what distinguishes sending an envelope from saving a draft, or voiding it). Bodies are not
kept otherwise: documents are large and may be private.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_ENTRIES = 200_000  # a full eval run is a few thousand requests; old entries fall off the front
BODY_STATUS_LIMIT = 64 * 1024 * 1024  # bodies larger than this are not parsed for their `status`


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    at: float
    method: str
    path: str
    query: str
    account_id: str | None
    status_code: int
    trace_token: str
    body_status: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """A bounded, ordered log; `seq` grows for the emulator's lifetime, so a reader can ask for what came after
    a mark it took earlier."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self.last_seq = 0

    def add(self, *, method: str, path: str, query: str, account_id: str | None, status_code: int,
            trace_token: str, body_status: str | None) -> None:
        seq = next(self._seq)
        self.last_seq = seq
        self._entries.append(LoggedRequest(seq, time.time(), method, path, query, account_id, status_code,
                                           trace_token, body_status))

    def select(self, *, account_id: str | None = None, after: int = 0) -> list[LoggedRequest]:
        return [e for e in self._entries
                if e.seq > after and (account_id is None or e.account_id == account_id)]


def body_status(body: bytes) -> str | None:
    """The top-level `status` of a JSON object body (e.g. "sent", "created", "voided"), else None."""
    if not body or len(body) > BODY_STATUS_LIMIT or body.lstrip()[:1] != b"{":
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    status = value.get("status") if isinstance(value, dict) else None
    return status if isinstance(status, str) else None
