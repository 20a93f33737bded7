"""`DocuSignClient`: one user's DocuSign account through the official SDK, async, retried, never duplicating.

The SDK is synchronous (urllib3), so each call runs in a bounded `ThreadPoolExecutor` shared by all clients: the
event loop never blocks and DocuSign never sees more parallel requests from us than the pool allows.

Per request, the bearer token comes from the `TokenManager` (fresh, refreshed once across callers and
processes). It is handed to the worker thread, not stored in the SDK's shared `default_headers`, so concurrent
calls of one client cannot race on a header and a refreshed token takes effect on the next call. A 401 forces
one refresh and one retry.

The SDK's urllib3 pool is set to `retries=False`: urllib3 would otherwise silently re-send PUTs and GETs on read
errors, hiding attempts from the retry policy here, which is the only place that decides (see `retry.py`).

Every envelope the product creates carries the hidden text custom field `dsa_request_id`. After an uncertain
failure of `POST envelopes` (5xx, timeout, dropped connection, limit error) the client waits, then looks the id
up; it only posts again when DocuSign has no envelope with that id, so a retry never creates a second envelope.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any

import urllib3
from docusign_esign import (
    BulkEnvelopesApi,
    BulkSendBatchStatus,
    BulkSendingList,
    BulkSendRequest,
    BulkSendResponse,
    ConnectApi,
    ConnectConfigResults,
    ConnectCustomConfiguration,
    CustomFields,
    Envelope,
    EnvelopeAuditEventResponse,
    EnvelopeDefinition,
    EnvelopeDocumentsResult,
    EnvelopesApi,
    EnvelopesInformation,
    EnvelopeSummary,
    EnvelopeTemplate,
    EnvelopeTemplateResults,
    EnvelopeUpdateSummary,
    Recipients,
    RecipientsUpdateSummary,
    RecipientViewRequest,
    TemplatesApi,
    TextCustomField,
    ViewUrl,
)
from docusign_esign.client.api_exception import ApiException

from docusign_agent.metrics import DOCUSIGN_CALLS

from docusign_client.cache import EnvelopeCache
from docusign_client.errors import (
    AUTH_CODES,
    DocuSignError,
    RateLimited,
    TransientDocuSignError,
    error_from_response,
)
from docusign_client.retry import RetryPolicy
from docusign_client.sdk import RateLimitStatus, RawResponse, ThreadAuthApiClient, header_int, sdk_operation
from docusign_client.tokens import TokenManager

log = logging.getLogger(__name__)

REQUEST_ID_FIELD = "dsa_request_id"
LOOKUP_WINDOW = dt.timedelta(minutes=10)  # how far before the first attempt the duplicate lookup searches
DEFAULT_LIST_WINDOW = dt.timedelta(days=30)


class Retry(Enum):
    """Which failures a call may be repeated after."""

    ALL = "all"          # reads and idempotent writes
    LIMITS = "limits"    # non-idempotent writes: only limit errors, which DocuSign answers before doing anything


def _ds_time(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DocuSignClient:
    """One product user's view of one DocuSign account. Methods return the SDK's model objects."""

    def __init__(self, *, user_id: uuid.UUID, account_id: str, base_uri: str, tokens: TokenManager,
                 executor: ThreadPoolExecutor, cache: EnvelopeCache, retry: RetryPolicy | None = None,
                 timeout: float = 30.0, pool_size: int = 16) -> None:
        self.user_id = user_id
        self.account_id = account_id
        self.base_uri = base_uri.rstrip("/")
        self.api_client = ThreadAuthApiClient(self.base_uri + "/restapi", timeout=timeout, pool_size=pool_size)
        self._tokens = tokens
        self._executor = executor
        self._cache = cache
        self._retry = retry or RetryPolicy()
        self._envelopes = EnvelopesApi(self.api_client)
        self._templates = TemplatesApi(self.api_client)
        self._bulk = BulkEnvelopesApi(self.api_client)
        self._connect = ConnectApi(self.api_client)
        self.last_trace_token: str | None = None
        self.rate_limit: RateLimitStatus | None = None
        self.last_attempts = 0  # HTTP attempts the last call made (retries + 1, lookups excluded)

    # --- envelopes ------------------------------------------------------------------------------------------

    async def create_envelope(self, definition: EnvelopeDefinition, *, request_id: str) -> EnvelopeSummary:
        """Create (and, with status "sent", send) an envelope, at most once per `request_id`."""
        if not request_id or not request_id.strip():
            raise DocuSignError("request_id is required", error_code="INVALID_REQUEST_PARAMETER")
        stamped = stamp_request_id(definition, request_id)
        started = dt.datetime.now(dt.UTC)
        attempt = 0
        while True:
            self.last_attempts = attempt + 1
            try:
                summary = await self._send(
                    lambda: self._envelopes.create_envelope_with_http_info(self.account_id,
                                                                           envelope_definition=stamped))
                return summary  # type: ignore[no-any-return]
            except DocuSignError as err:
                if not err.retryable:
                    raise  # DocuSign's definite answer: nothing was created
                wait = self._retry.delay(err, attempt)
                if wait is not None:
                    log.info("create_envelope %s uncertain (%s); checking before retry %d in %.2fs",
                             request_id, err.error_code or err.status, attempt + 1, wait)
                    await asyncio.sleep(wait)
                found = await self._find_after_uncertain_create(request_id, started, err)
                if found is not None:
                    return found
                if wait is None:
                    raise
                attempt += 1

    async def _find_after_uncertain_create(self, request_id: str, started: dt.datetime,
                                           cause: DocuSignError) -> EnvelopeSummary | None:
        try:
            env = await self.find_envelope_by_request_id(request_id, since=started)
        except DocuSignError as lookup_error:
            if isinstance(cause, RateLimited) and isinstance(lookup_error, RateLimited):
                raise cause from None  # DocuSign refuses over-limit requests before doing anything: not created
            raise TransientDocuSignError(
                f"envelope creation outcome unknown: {cause.message}; the lookup failed too: {lookup_error.message}",
                status=cause.status, error_code="ENVELOPE_CREATION_UNCERTAIN", trace_token=cause.trace_token,
                user_message=(f"DocuSign didn't confirm whether the envelope was created, and checking failed too; "
                              f"look for request id {request_id} before trying again."),
            ) from None
        if env is None:
            return None
        log.info("create_envelope %s had in fact succeeded: envelope %s", request_id, env.envelope_id)
        return EnvelopeSummary(envelope_id=env.envelope_id, status=env.status,
                               status_date_time=env.status_changed_date_time,
                               uri=f"/envelopes/{env.envelope_id}")

    async def find_envelope_by_request_id(self, request_id: str, *, since: dt.datetime | None = None) -> Envelope | None:
        """The envelope this product created for `request_id`, if DocuSign has one (search by custom field)."""
        since = (since or dt.datetime.now(dt.UTC)) - LOOKUP_WINDOW
        info: EnvelopesInformation = await self._call(
            lambda: self._envelopes.list_status_changes_with_http_info(
                self.account_id, from_date=_ds_time(since), custom_field=f"{REQUEST_ID_FIELD}={request_id}",
                include="custom_fields"),
            count_attempts=False)
        for env in info.envelopes or []:
            fields = (env.custom_fields.text_custom_fields if env.custom_fields else None) or []
            if any(f.name == REQUEST_ID_FIELD and f.value == request_id for f in fields):
                return env
        return None

    async def list_envelopes(self, *, from_date: dt.datetime | str | None = None, to_date: dt.datetime | str | None = None,
                             status: str | list[str] | None = None, search_text: str | None = None,
                             envelope_ids: list[str] | None = None, count: int | None = None,
                             start_position: int | None = None, include: str | list[str] | None = None,
                             ) -> EnvelopesInformation:
        """Envelopes changed since `from_date` (default: the last 30 days, as DocuSign requires a start)."""
        params: dict[str, Any] = {}
        if envelope_ids:
            params["envelope_ids"] = ",".join(envelope_ids)
        if from_date is not None or not envelope_ids:
            params["from_date"] = _ds_time(from_date or dt.datetime.now(dt.UTC) - DEFAULT_LIST_WINDOW)
        if to_date is not None:
            params["to_date"] = _ds_time(to_date)
        if status:
            params["status"] = status if isinstance(status, str) else ",".join(status)
        if search_text:
            params["search_text"] = search_text
        if count is not None:
            params["count"] = str(count)
        if start_position is not None:
            params["start_position"] = str(start_position)
        if include:
            params["include"] = include if isinstance(include, str) else ",".join(include)
        return await self._call(lambda: self._envelopes.list_status_changes_with_http_info(self.account_id, **params))

    async def get_envelope(self, envelope_id: str, *, include: str | list[str] | None = None) -> Envelope:
        include_text = include if isinstance(include, str) or include is None else ",".join(include)
        params = {"include": include_text} if include_text else {}
        return await self._cached_read(
            envelope_id, f"envelope:{include_text or ''}", "Envelope",
            lambda: self._envelopes.get_envelope_with_http_info(self.account_id, envelope_id, **params))

    async def send_draft(self, envelope_id: str) -> EnvelopeUpdateSummary:
        """Send a draft: `PUT envelopes/{id}` with status "sent"."""
        return await self._status_write(envelope_id, Envelope(status="sent"),
                                        applied=lambda env: env.status != "created")

    async def void_envelope(self, envelope_id: str, reason: str) -> EnvelopeUpdateSummary:
        """Void a sent or delivered envelope; DocuSign requires the reason."""
        if not reason or not reason.strip():
            raise DocuSignError("voidedReason must be specified when voiding an envelope",
                                error_code="INVALID_REQUEST_PARAMETER", user_message="A reason is required to void an envelope.")
        return await self._status_write(envelope_id, Envelope(status="voided", voided_reason=reason.strip()),
                                        applied=lambda env: env.status == "voided")

    async def resend_envelope(self, envelope_id: str) -> EnvelopeUpdateSummary:
        """Send the notification emails again to the current recipients (`?resend_envelope=true`)."""
        try:
            return await self._call(lambda: self._envelopes.update_with_http_info(
                self.account_id, envelope_id, resend_envelope="true", envelope=Envelope()))
        finally:
            await self._cache.invalidate(envelope_id)

    async def _status_write(self, envelope_id: str, change: Envelope,
                            applied: Callable[[Envelope], bool]) -> EnvelopeUpdateSummary:
        """A status change, retried only after checking it did not already happen (a repeated void would fail)."""
        attempt = 0
        try:
            while True:
                self.last_attempts = attempt + 1
                try:
                    return await self._send(lambda: self._envelopes.update_with_http_info(
                        self.account_id, envelope_id, envelope=change))  # type: ignore[no-any-return]
                except DocuSignError as err:
                    wait = self._retry.delay(err, attempt)
                    if wait is None:
                        raise
                    await asyncio.sleep(wait)
                    current = await self._call(lambda: self._envelopes.get_envelope_with_http_info(
                        self.account_id, envelope_id), count_attempts=False)
                    if applied(current):
                        return EnvelopeUpdateSummary(envelope_id=envelope_id)
                    attempt += 1
        finally:
            await self._cache.invalidate(envelope_id)

    # --- recipients -----------------------------------------------------------------------------------------

    async def list_recipients(self, envelope_id: str) -> Recipients:
        return await self._cached_read(
            envelope_id, "recipients", "Recipients",
            lambda: self._envelopes.list_recipients_with_http_info(self.account_id, envelope_id))

    async def update_recipients(self, envelope_id: str, recipients: Recipients, *,
                                resend: bool = False) -> RecipientsUpdateSummary:
        """Correct recipients (name/email) of an envelope in flight; optionally resend to them."""
        params = {"resend_envelope": "true"} if resend else {}
        try:
            return await self._call(lambda: self._envelopes.update_recipients_with_http_info(
                self.account_id, envelope_id, recipients=recipients, **params))
        finally:
            await self._cache.invalidate(envelope_id)

    async def create_recipient_view(self, envelope_id: str, request: RecipientViewRequest) -> ViewUrl:
        return await self._call(lambda: self._envelopes.create_recipient_view_with_http_info(
            self.account_id, envelope_id, recipient_view_request=request))

    # --- documents and audit --------------------------------------------------------------------------------

    async def list_documents(self, envelope_id: str) -> EnvelopeDocumentsResult:
        return await self._call(lambda: self._envelopes.list_documents_with_http_info(self.account_id, envelope_id))

    async def get_document(self, envelope_id: str, document_id: str) -> bytes:
        """Document bytes; `document_id` may also be "combined", "certificate" or "archive" (a zip)."""
        data = await self._call(lambda: self._envelopes.get_document_with_http_info(
            self.account_id, document_id, envelope_id))
        return data if isinstance(data, bytes) else str(data).encode()

    async def list_audit_events(self, envelope_id: str) -> EnvelopeAuditEventResponse:
        return await self._call(lambda: self._envelopes.list_audit_events_with_http_info(self.account_id, envelope_id))

    # --- templates ------------------------------------------------------------------------------------------

    async def list_templates(self, *, search_text: str | None = None) -> EnvelopeTemplateResults:
        params = {"search_text": search_text} if search_text else {}
        return await self._call(lambda: self._templates.list_templates_with_http_info(self.account_id, **params))

    async def get_template(self, template_id: str) -> EnvelopeTemplate:
        return await self._call(lambda: self._templates.get_with_http_info(self.account_id, template_id))

    # --- bulk send ------------------------------------------------------------------------------------------

    async def create_bulk_send_list(self, bulk_list: BulkSendingList) -> BulkSendingList:
        return await self._call(lambda: self._bulk.create_bulk_send_list_with_http_info(
            self.account_id, bulk_sending_list=bulk_list), retry=Retry.LIMITS)

    async def send_bulk(self, list_id: str, request: BulkSendRequest) -> BulkSendResponse:
        """Queue a bulk send. Not retried after an uncertain failure: a second send would mail everyone twice."""
        return await self._call(lambda: self._bulk.create_bulk_send_request_with_http_info(
            self.account_id, list_id, bulk_send_request=request), retry=Retry.LIMITS)

    async def get_bulk_batch(self, batch_id: str) -> BulkSendBatchStatus:
        return await self._call(lambda: self._bulk.get_bulk_send_batch_status_with_http_info(self.account_id, batch_id))

    # --- Connect --------------------------------------------------------------------------------------------

    async def list_connect_configs(self) -> ConnectConfigResults:
        return await self._call(lambda: self._connect.list_configurations_with_http_info(self.account_id))

    async def create_connect_config(self, config: ConnectCustomConfiguration) -> ConnectCustomConfiguration:
        return await self._call(lambda: self._connect.create_configuration_with_http_info(
            self.account_id, connect_custom_configuration=config), retry=Retry.LIMITS)

    async def update_connect_config(self, config: ConnectCustomConfiguration) -> ConnectCustomConfiguration:
        return await self._call(lambda: self._connect.update_configuration_with_http_info(
            self.account_id, connect_custom_configuration=config))

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _cached_read(self, envelope_id: str, kind: str, model: str, fn: Callable[[], Any]) -> Any:
        field = f"{self.account_id}|{kind}"
        cached = await self._cache.get(envelope_id, field)
        if cached is not None:
            return self.api_client.deserialize(RawResponse(json.dumps(cached)), model)
        value = await self._call(fn)
        await self._cache.set(envelope_id, field, self.api_client.sanitize_for_serialization(value))
        return value

    async def _call(self, fn: Callable[[], Any], *, retry: Retry = Retry.ALL, count_attempts: bool = True) -> Any:
        """One SDK call with the retry policy. `fn` must be a `*_with_http_info` call."""
        attempt = 0
        while True:
            if count_attempts:
                self.last_attempts = attempt + 1
            try:
                return await self._send(fn)
            except DocuSignError as err:
                allowed = retry is Retry.ALL or isinstance(err, RateLimited)
                wait = self._retry.delay(err, attempt) if allowed else None
                if wait is None:
                    raise
                log.info("DocuSign call failed (%s, trace %s); retry %d in %.2fs",
                         err.error_code or err.status, err.trace_token, attempt + 1, wait)
                await asyncio.sleep(wait)
                attempt += 1

    async def _send(self, fn: Callable[[], Any]) -> Any:
        """One attempt, with a fresh token; a 401 forces one token refresh and one more try."""
        tokens = await self._tokens.access_token(self.user_id)
        try:
            return await self._run(tokens.access_token, fn)
        except DocuSignError as err:
            if err.status != 401 or (err.error_code and err.error_code not in AUTH_CODES):
                raise
            log.info("DocuSign rejected the access token for user %s; refreshing once", self.user_id)
            tokens = await self._tokens.force_refresh(self.user_id, tokens.access_token)
            return await self._run(tokens.access_token, fn)

    async def _run(self, token: str, fn: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        operation = sdk_operation(fn)
        try:
            data, status, headers = await loop.run_in_executor(self._executor, self.api_client.run_as, token, fn)
        except ApiException as exc:
            DOCUSIGN_CALLS.labels(operation=operation, status=str(exc.status or 0)).inc()
            headers = exc.headers if getattr(exc, "headers", None) is not None else {}
            self._observe(headers)
            if not exc.status:  # the SDK's wrapper for SSL failures
                raise TransientDocuSignError(f"could not reach DocuSign: {exc.reason}", status=0,
                                             error_code="CONNECTION_ERROR") from None
            raise error_from_response(exc.status, exc.body, headers) from None
        except urllib3.exceptions.HTTPError as exc:
            timeout = isinstance(exc, urllib3.exceptions.TimeoutError)
            DOCUSIGN_CALLS.labels(operation=operation, status="timeout" if timeout else "unreachable").inc()
            raise TransientDocuSignError(
                f"DocuSign did not answer in time ({type(exc).__name__})" if timeout
                else f"could not reach DocuSign ({type(exc).__name__})",
                status=0, error_code="TIMEOUT" if timeout else "CONNECTION_ERROR") from None
        DOCUSIGN_CALLS.labels(operation=operation, status=str(status)).inc()
        self._observe(headers)
        return data

    def _observe(self, headers: Mapping[str, str]) -> None:
        if not headers:
            return
        trace = headers.get("X-DocuSign-TraceToken")
        if trace:
            self.last_trace_token = trace
        if headers.get("X-RateLimit-Limit") is not None:
            self.rate_limit = RateLimitStatus(
                limit=header_int(headers, "X-RateLimit-Limit"), remaining=header_int(headers, "X-RateLimit-Remaining"),
                reset=header_int(headers, "X-RateLimit-Reset"), burst_limit=header_int(headers, "X-BurstLimit-Limit"),
                burst_remaining=header_int(headers, "X-BurstLimit-Remaining"))


def stamp_request_id(definition: EnvelopeDefinition, request_id: str) -> EnvelopeDefinition:
    """A copy of `definition` carrying the hidden text custom field `dsa_request_id` (documents not copied)."""
    stamped = copy.copy(definition)
    existing = definition.custom_fields
    text_fields = [f for f in ((existing.text_custom_fields if existing else None) or [])
                   if f.name != REQUEST_ID_FIELD]
    text_fields.append(TextCustomField(name=REQUEST_ID_FIELD, value=request_id, show="false", required="false"))
    stamped.custom_fields = CustomFields(
        text_custom_fields=text_fields, list_custom_fields=existing.list_custom_fields if existing else None)
    return stamped
