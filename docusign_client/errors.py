"""Typed DocuSign failures, each with a sentence a person (or the model) can act on.

DocuSign answers errors as HTTP 400 (sometimes 401/404/429/5xx) with `{"errorCode", "message"}` and a
`X-DocuSign-TraceToken` header; OAuth answers `{"error", "error_description"}`. Everything the client layer
raises is a `DocuSignError` so tools need one `except`, and the subclasses say what the caller can do about it:
wait (`RateLimited`), try again (`TransientDocuSignError`), or send the person to reconnect
(`ReconnectRequired`, `NotConnected`).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

LOGIN_PATH = "/auth/docusign/login"

LIMIT_CODES = frozenset({"HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "BURST_APIINVOCATION_LIMIT_EXCEEDED"})
AUTH_CODES = frozenset({"USER_AUTHENTICATION_FAILED", "AUTHORIZATION_INVALID_TOKEN", "PARTNER_AUTHENTICATION_FAILED"})

# DocuSign's own error codes, phrased for a person. Codes not listed fall back to DocuSign's message.
USER_MESSAGES: dict[str, str] = {
    "ENVELOPE_CANNOT_VOID_INVALID_STATE": "The envelope is already completed (or declined/voided), so it can't be voided.",
    "ENVELOPE_DOES_NOT_EXIST": "That envelope doesn't exist in this DocuSign account, or you don't have access to it.",
    "ENVELOPE_INVALID_STATUS": "The envelope isn't in a state that allows this (for example it is already completed, "
    "declined or voided, or it hasn't been sent yet).",
    "ENVELOPE_CANNOT_SEND_INVALID_STATE": "Only a draft envelope can be sent, and this one is no longer a draft.",
    "ENVELOPE_IS_INCOMPLETE": "The envelope can't be sent yet: it needs at least one document, one signer and an "
    "email subject.",
    "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT": "One of the recipients' email addresses isn't valid; check it and try again.",
    "UNKNOWN_ENVELOPE_RECIPIENT": "That recipient isn't on this envelope.",
    "RECIPIENT_UPDATE_FAILED": "That recipient can't be changed any more (they have already signed or declined).",
    "RECIPIENT_NOT_IN_SEQUENCE": "It isn't that recipient's turn to sign yet.",
    "TEMPLATE_ID_INVALID": "That template doesn't exist in this DocuSign account.",
    "DOCUMENT_DOES_NOT_EXIST": "That document isn't part of this envelope.",
    "DUPLICATE_DOCUMENT_ID": "Two documents in the envelope have the same document id.",
    "FORMAT_CONVERSION_ERROR": "DocuSign couldn't read one of the documents; upload a valid PDF.",
    "ANCHOR_TAB_STRING_NOT_FOUND": "A signature field's anchor text wasn't found in the document.",
    "TAB_REFERS_TO_MISSING_DOCUMENT": "A signature field points at a document that isn't in the envelope.",
    "TAB_PAGENUMBER_IS_NOT_IN_DOCUMENT": "A signature field points at a page the document doesn't have.",
    "HOURLY_APIINVOCATION_LIMIT_EXCEEDED": "DocuSign's hourly API limit for this account has been reached; "
    "try again later.",
    "BURST_APIINVOCATION_LIMIT_EXCEEDED": "DocuSign is receiving too many requests from this account right now; "
    "try again in a few seconds.",
    "USER_AUTHENTICATION_FAILED": "DocuSign didn't accept the saved credentials; reconnect DocuSign at "
    f"{LOGIN_PATH}.",
    "AUTHORIZATION_INVALID_TOKEN": "DocuSign didn't accept the saved credentials; reconnect DocuSign at "
    f"{LOGIN_PATH}.",
    "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT": "The connected DocuSign user isn't a member of that account.",
    "USER_LACKS_PERMISSIONS": "The connected DocuSign user doesn't have permission to do that.",
    "ACCOUNT_LACKS_PERMISSIONS": "This DocuSign account doesn't have that feature enabled.",
    "INVALID_REQUEST_PARAMETER": "DocuSign rejected one of the request's values.",
    "INVALID_REQUEST_BODY": "DocuSign couldn't read the request.",
    "BULK_SEND_LIST_NOT_FOUND": "That bulk send list doesn't exist.",
    "BULK_SEND_BATCH_NOT_FOUND": "That bulk send batch doesn't exist.",
    "BULK_SEND_ENVELOPE_NOT_IN_SENDABLE_STATE": "A bulk send needs a template or a draft envelope as its source.",
    "INVALID_CONNECT_CONFIG_ID": "That Connect configuration doesn't exist.",
    "consent_required": "The DocuSign user hasn't granted this application consent yet.",
    "invalid_grant": "DocuSign refused the saved authorization; reconnect DocuSign at " f"{LOGIN_PATH}.",
}


class DocuSignError(Exception):
    """A failed DocuSign call. `user_message` is safe to show; `message` is DocuSign's own text."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None,
                 trace_token: str | None = None, retry_after: float | None = None,
                 user_message: str | None = None, attempts: int = 0) -> None:
        super().__init__(f"{error_code}: {message}" if error_code else message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.trace_token = trace_token
        self.retry_after = retry_after
        self.attempts = attempts  # HTTP attempts the failed call made (set by the client; 0 if none was sent)
        self._user_message = user_message

    @property
    def user_message(self) -> str:
        if self._user_message:
            return self._user_message
        known = USER_MESSAGES.get(self.error_code or "")
        if known and self.error_code == "INVALID_REQUEST_PARAMETER" and self.message:
            return f"{known} DocuSign said: {self.message}"
        if known:
            return known
        if self.error_code:
            return f"DocuSign returned an error ({self.error_code}): {self.message}"
        return f"DocuSign returned an error: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """What a tool result or an API error body carries (never tokens: none are ever in an error)."""
        return {"status": self.status, "error_code": self.error_code, "message": self.message,
                "user_message": self.user_message, "trace_token": self.trace_token,
                "retry_after": self.retry_after}


class TransientDocuSignError(DocuSignError):
    """5xx, timeouts, dropped connections: the same request may succeed later."""

    retryable = True

    @property
    def user_message(self) -> str:
        return self._user_message or "DocuSign didn't answer properly (a temporary problem on their side); try again."


class RateLimited(DocuSignError):
    """An API limit (400 with a *_APIINVOCATION_LIMIT_EXCEEDED code, or 429). `retry_after` in seconds if known."""

    retryable = True

    @property
    def user_message(self) -> str:
        base = super().user_message if self.error_code in LIMIT_CODES else (
            "DocuSign is limiting requests from this account right now; try again shortly.")
        if self.retry_after and self.retry_after > 60:
            return f"{base.rstrip('.')} (in about {round(self.retry_after / 60)} minutes)."
        return base


class ReconnectRequired(DocuSignError):
    """The stored grant is dead (revoked or expired refresh token, withdrawn consent). Never retried."""

    def __init__(self, message: str = "the DocuSign grant was revoked or has expired", **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "RECONNECT_REQUIRED")
        kwargs.setdefault("status", 401)
        super().__init__(message, **kwargs)

    @property
    def user_message(self) -> str:
        return f"Your DocuSign connection has expired or was revoked; reconnect DocuSign at {LOGIN_PATH}."


class NotConnected(DocuSignError):
    """This user has never connected DocuSign, and the deployment can't connect them by itself."""

    def __init__(self, message: str = "no DocuSign credentials for this user", **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "NOT_CONNECTED")
        kwargs.setdefault("status", 401)
        super().__init__(message, **kwargs)

    @property
    def user_message(self) -> str:
        return f"DocuSign isn't connected yet; connect DocuSign at {LOGIN_PATH}."


class OAuthError(DocuSignError):
    """The account server refused a grant. `error_code` is OAuth's `error` (invalid_grant, consent_required...)."""


class ConsentRequired(OAuthError):
    def __init__(self, message: str, *, consent_url: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "consent_required")
        super().__init__(message, **kwargs)
        self.consent_url = consent_url

    @property
    def user_message(self) -> str:
        where = f" at {self.consent_url}" if self.consent_url else ""
        return f"The DocuSign user hasn't granted this application consent yet; grant it{where} and try again."


class InvalidGrant(OAuthError):
    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "invalid_grant")
        super().__init__(message, **kwargs)


# --- building errors from responses -------------------------------------------------------------------------

def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """How long DocuSign asked us to wait, if it said so.

    `Retry-After` (seconds or an HTTP date) wins. `X-RateLimit-Reset` (epoch seconds) is sent on every response
    as the end of the hourly window, so it only means "wait" when `X-RateLimit-Remaining` is 0.
    """
    now = time.time() if now is None else now
    raw = _header(headers, "Retry-After")
    if raw:
        raw = raw.strip()
        if raw.replace(".", "", 1).isdigit():
            return max(0.0, float(raw))
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    remaining, reset = _header(headers, "X-RateLimit-Remaining"), _header(headers, "X-RateLimit-Reset")
    if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now)
    return None


def parse_error_body(body: bytes | str | None) -> tuple[str | None, str]:
    """(errorCode, message) from a DocuSign or OAuth error body; tolerant of HTML or empty bodies."""
    if body is None:
        return None, ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return None, text.strip()[:300]
    if not isinstance(data, dict):
        return None, text.strip()[:300]
    code = data.get("errorCode") or data.get("error")
    message = data.get("message") or data.get("error_description") or ""
    return (str(code) if code else None), str(message)


def error_from_response(status: int, body: bytes | str | None, headers: Mapping[str, str] | None) -> DocuSignError:
    """The typed error for one HTTP answer from the REST API."""
    code, message = parse_error_body(body)
    trace = _header(headers, "X-DocuSign-TraceToken")
    message = message or f"HTTP {status}"
    if status == 429 or code in LIMIT_CODES:
        return RateLimited(message, status=status, error_code=code, trace_token=trace,
                           retry_after=retry_after_seconds(headers))
    if status >= 500 or status == 408 or status == 0:
        return TransientDocuSignError(message, status=status, error_code=code, trace_token=trace)
    return DocuSignError(message, status=status, error_code=code, trace_token=trace)
