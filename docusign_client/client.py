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

What one call learned besides its answer (the trace token DocuSign support asks for, how many attempts it took,
the rate-limit headers) comes back with it, as a `DocuSignResult`, or on the `DocuSignError` it raised. Nothing
about a call is kept on the client, which concurrent tool calls share.

The module is longer than most here because it is the product's whole surface of the SDK in one class: each
public method is a few typed lines over the shared plumbing (`_call`, `_write_once`, `_cached_read`).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

from docusign_agent.docusign_time import format_time, parse_time_or_none
from docusign_agent.envelope_rules import REQUEST_ID_FIELD
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
from docusign_client.sdk import (
    DocuSignResult,
    RateLimitStatus,
    RawResponse,
    ThreadAuthApiClient,
    rate_limit_status,
    sdk_operation,
)
from docusign_client.tokens import TokenManager

log = logging.getLogger(__name__)

LOOKUP_WINDOW = dt.timedelta(minutes=10)  # how far before the first attempt the duplicate lookup searches
DEFAULT_LIST_WINDOW = dt.timedelta(days=30)


class Retry(Enum):
    """Which failures a call may be repeated after."""

    ALL = "all"          # reads and idempotent writes
    LIMITS = "limits"    # non-idempotent writes: only limit errors, which DocuSign answers before doing anything


def _ds_time(moment: dt.datetime | str) -> str:
    return moment if isinstance(moment, str) else format_time(moment)


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

    # --- envelopes ------------------------------------------------------------------------------------------

    async def create_envelope(self, definition: EnvelopeDefinition, *, request_id: str) -> DocuSignResult[EnvelopeSummary]:
        """Create (and, with status "sent", send) an envelope, at most once per `request_id`."""
        if not request_id or not request_id.strip():
            raise DocuSignError("request_id is required", error_code="INVALID_REQUEST_PARAMETER")
        stamped = stamp_request_id(definition, request_id)
        started = dt.datetime.now(dt.UTC)
        return await self._write_once(
            lambda: self._envelopes.create_envelope_with_http_info(self.account_id, envelope_definition=stamped),
            lambda cause: self._find_after_uncertain_create(request_id, started, cause))

    async def _find_after_uncertain_create(self, request_id: str, started: dt.datetime,
                                           cause: DocuSignError) -> DocuSignResult[EnvelopeSummary] | None:
        try:
            lookup = await self.find_envelope_by_request_id(request_id, since=started)
        except DocuSignError as lookup_error:
            if isinstance(cause, RateLimited) and isinstance(lookup_error, RateLimited):
                raise cause from None  # DocuSign refuses over-limit requests before doing anything: not created
            raise TransientDocuSignError(
                f"envelope creation outcome unknown: {cause.message}; the lookup failed too: {lookup_error.message}",
                status=cause.status, error_code="ENVELOPE_CREATION_UNCERTAIN", trace_token=cause.trace_token,
                attempts=cause.attempts,
                user_message=(f"DocuSign didn't confirm whether the envelope was created, and checking failed too; "
                              f"look for request id {request_id} before trying again."),
            ) from None
        env = lookup.value
        if env is None:
            return None
        log.info("create_envelope %s had in fact succeeded: envelope %s", request_id, env.envelope_id)
        summary = EnvelopeSummary(envelope_id=env.envelope_id, status=env.status,
                                  status_date_time=env.status_changed_date_time, uri=f"/envelopes/{env.envelope_id}")
        return DocuSignResult(summary, lookup.trace_token, lookup.attempts, lookup.rate_limit)

    async def find_envelope_by_request_id(self, request_id: str, *,
                                          since: dt.datetime | None = None) -> DocuSignResult[Envelope | None]:
        """The envelope this product created for `request_id`, if DocuSign has one (search by custom field)."""
        since = (since or dt.datetime.now(dt.UTC)) - LOOKUP_WINDOW
        info: DocuSignResult[EnvelopesInformation] = await self._call(
            lambda: self._envelopes.list_status_changes_with_http_info(
                self.account_id, from_date=_ds_time(since), custom_field=f"{REQUEST_ID_FIELD}={request_id}",
                include="custom_fields"))
        for env in info.value.envelopes or []:
            fields = (env.custom_fields.text_custom_fields if env.custom_fields else None) or []
            if any(f.name == REQUEST_ID_FIELD and f.value == request_id for f in fields):
                return DocuSignResult(env, info.trace_token, info.attempts, info.rate_limit)
        return DocuSignResult(None, info.trace_token, info.attempts, info.rate_limit)

    async def list_envelopes(self, *, from_date: dt.datetime | str | None = None, to_date: dt.datetime | str | None = None,
                             status: str | list[str] | None = None, search_text: str | None = None,
                             envelope_ids: list[str] | None = None, count: int | None = None,
                             start_position: int | None = None, include: str | list[str] | None = None,
                             ) -> DocuSignResult[EnvelopesInformation]:
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

    async def get_envelope(self, envelope_id: str, *,
                           include: str | list[str] | None = None) -> DocuSignResult[Envelope]:
        include_text = include if isinstance(include, str) or include is None else ",".join(include)
        params = {"include": include_text} if include_text else {}
        return await self._cached_read(
            envelope_id, f"envelope:{include_text or ''}", "Envelope",
            lambda: self._envelopes.get_envelope_with_http_info(self.account_id, envelope_id, **params))

    async def send_draft(self, envelope_id: str) -> DocuSignResult[EnvelopeUpdateSummary]:
        """Send a draft: `PUT envelopes/{id}` with status "sent"."""
        return await self._status_write(envelope_id, Envelope(status="sent"),
                                        applied=lambda env: env.status != "created")

    async def void_envelope(self, envelope_id: str, reason: str) -> DocuSignResult[EnvelopeUpdateSummary]:
        """Void a sent or delivered envelope; DocuSign requires the reason."""
        if not reason or not reason.strip():
            raise DocuSignError("voidedReason must be specified when voiding an envelope",
                                error_code="INVALID_REQUEST_PARAMETER", user_message="A reason is required to void an envelope.")
        return await self._status_write(envelope_id, Envelope(status="voided", voided_reason=reason.strip()),
                                        applied=lambda env: env.status == "voided")

    async def resend_envelope(self, envelope_id: str) -> DocuSignResult[EnvelopeUpdateSummary]:
        """Send the notification emails again to the current recipients (`?resend_envelope=true`)."""
        try:
            return await self._call(lambda: self._envelopes.update_with_http_info(
                self.account_id, envelope_id, resend_envelope="true", envelope=Envelope()))
        finally:
            await self._cache.invalidate(envelope_id)

    async def _status_write(self, envelope_id: str, change: Envelope,
                            applied: Callable[[Envelope], bool]) -> DocuSignResult[EnvelopeUpdateSummary]:
        """A status change, written again only after checking it did not already happen (a repeated void fails)."""

        async def already_done(_: DocuSignError) -> DocuSignResult[EnvelopeUpdateSummary] | None:
            current = await self._call(lambda: self._envelopes.get_envelope_with_http_info(self.account_id, envelope_id))
            if not applied(current.value):
                return None
            return current.replace(EnvelopeUpdateSummary(envelope_id=envelope_id))

        try:
            return await self._write_once(
                lambda: self._envelopes.update_with_http_info(self.account_id, envelope_id, envelope=change),
                already_done)
        finally:
            await self._cache.invalidate(envelope_id)

    # --- recipients -----------------------------------------------------------------------------------------

    async def list_recipients(self, envelope_id: str) -> DocuSignResult[Recipients]:
        return await self._cached_read(
            envelope_id, "recipients", "Recipients",
            lambda: self._envelopes.list_recipients_with_http_info(self.account_id, envelope_id))

    async def update_recipients(self, envelope_id: str, recipients: Recipients, *,
                                resend: bool = False) -> DocuSignResult[RecipientsUpdateSummary]:
        """Correct recipients (name/email) of an envelope in flight; optionally resend to them."""
        params = {"resend_envelope": "true"} if resend else {}
        try:
            return await self._call(lambda: self._envelopes.update_recipients_with_http_info(
                self.account_id, envelope_id, recipients=recipients, **params))
        finally:
            await self._cache.invalidate(envelope_id)

    async def create_recipient_view(self, envelope_id: str,
                                    request: RecipientViewRequest) -> DocuSignResult[ViewUrl]:
        return await self._call(lambda: self._envelopes.create_recipient_view_with_http_info(
            self.account_id, envelope_id, recipient_view_request=request))

    # --- documents and audit --------------------------------------------------------------------------------

    async def list_documents(self, envelope_id: str) -> DocuSignResult[EnvelopeDocumentsResult]:
        return await self._call(lambda: self._envelopes.list_documents_with_http_info(self.account_id, envelope_id))

    async def get_document(self, envelope_id: str, document_id: str) -> DocuSignResult[bytes]:
        """Document bytes; `document_id` may also be "combined", "certificate" or "archive" (a zip)."""
        result = await self._call(lambda: self._envelopes.get_document_with_http_info(
            self.account_id, document_id, envelope_id))
        data = result.value
        return result.replace(data if isinstance(data, bytes) else str(data).encode())

    async def list_audit_events(self, envelope_id: str) -> DocuSignResult[EnvelopeAuditEventResponse]:
        return await self._call(lambda: self._envelopes.list_audit_events_with_http_info(self.account_id, envelope_id))

    # --- templates ------------------------------------------------------------------------------------------

    async def list_templates(self, *, search_text: str | None = None) -> DocuSignResult[EnvelopeTemplateResults]:
        params = {"search_text": search_text} if search_text else {}
        return await self._call(lambda: self._templates.list_templates_with_http_info(self.account_id, **params))

    async def get_template(self, template_id: str) -> DocuSignResult[EnvelopeTemplate]:
        return await self._call(lambda: self._templates.get_with_http_info(self.account_id, template_id))

    # --- bulk send ------------------------------------------------------------------------------------------

    async def create_bulk_send_list(self, bulk_list: BulkSendingList) -> DocuSignResult[BulkSendingList]:
        return await self._call(lambda: self._bulk.create_bulk_send_list_with_http_info(
            self.account_id, bulk_sending_list=bulk_list), retry=Retry.LIMITS)

    async def send_bulk(self, list_id: str, request: BulkSendRequest) -> DocuSignResult[BulkSendResponse]:
        """Queue a bulk send of the list `list_id`, at most once.

        A second send would mail everyone twice, so after an uncertain failure the client looks for a batch of
        this list submitted since the first attempt and sends again only when DocuSign has none. When the
        lookup fails too, it raises BULK_SEND_UNCERTAIN: the batch may be mailing everyone, and nobody should
        send it again blindly.
        """
        started = dt.datetime.now(dt.UTC)
        return await self._write_once(
            lambda: self._bulk.create_bulk_send_request_with_http_info(self.account_id, list_id,
                                                                       bulk_send_request=request),
            lambda cause: self._find_after_uncertain_bulk_send(list_id, request, started, cause))

    async def _find_after_uncertain_bulk_send(self, list_id: str, request: BulkSendRequest, started: dt.datetime,
                                              cause: DocuSignError) -> DocuSignResult[BulkSendResponse] | None:
        try:
            lookup = await self.find_bulk_batch(list_id, request.batch_name or "", since=started)
        except DocuSignError as lookup_error:
            raise TransientDocuSignError(
                f"bulk send outcome unknown: {cause.message}; the lookup failed too: {lookup_error.message}",
                status=cause.status, error_code="BULK_SEND_UNCERTAIN", trace_token=cause.trace_token,
                attempts=cause.attempts,
                user_message=("DocuSign didn't confirm whether the bulk send started, and checking failed too; it may "
                              "be sending. Check the batch's status before sending again."),
            ) from None
        batch = lookup.value
        if batch is None:
            return None
        log.info("send_bulk of list %s had in fact succeeded: batch %s", list_id, batch.batch_id)
        response = BulkSendResponse(batch_id=batch.batch_id, batch_name=batch.batch_name, batch_size=batch.batch_size,
                                    envelope_or_template_id=request.envelope_or_template_id)
        return DocuSignResult(response, lookup.trace_token, lookup.attempts, lookup.rate_limit)

    async def find_bulk_batch(self, list_id: str, batch_name: str, *,
                              since: dt.datetime | None = None) -> DocuSignResult[BulkSendBatchStatus | None]:
        """The batch this client queued from the list `list_id` (lists are made per send, so the list names the
        send), submitted since `since` minus the lookup window; searched by name, confirmed by list id."""
        since = (since or dt.datetime.now(dt.UTC)) - LOOKUP_WINDOW
        listing = await self._call(lambda: self._bulk.get_bulk_send_batches_with_http_info(
            self.account_id, search_text=batch_name or None, status="all"))
        last: DocuSignResult[Any] = listing
        for summary in listing.value.bulk_batch_summaries or []:
            submitted = parse_time_or_none(summary.submitted_date)
            if submitted is not None and submitted < since:
                continue
            status = await self.get_bulk_batch(summary.batch_id)
            last = status
            if status.value.mailing_list_id == list_id:
                return status
        return DocuSignResult(None, last.trace_token, listing.attempts, last.rate_limit)

    async def get_bulk_batch(self, batch_id: str) -> DocuSignResult[BulkSendBatchStatus]:
        return await self._call(lambda: self._bulk.get_bulk_send_batch_status_with_http_info(self.account_id, batch_id))

    # --- Connect --------------------------------------------------------------------------------------------

    async def list_connect_configs(self) -> DocuSignResult[ConnectConfigResults]:
        return await self._call(lambda: self._connect.list_configurations_with_http_info(self.account_id))

    async def create_connect_config(self, config: ConnectCustomConfiguration
                                    ) -> DocuSignResult[ConnectCustomConfiguration]:
        return await self._call(lambda: self._connect.create_configuration_with_http_info(
            self.account_id, connect_custom_configuration=config), retry=Retry.LIMITS)

    async def update_connect_config(self, config: ConnectCustomConfiguration
                                    ) -> DocuSignResult[ConnectCustomConfiguration]:
        return await self._call(lambda: self._connect.update_configuration_with_http_info(
            self.account_id, connect_custom_configuration=config))

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _write_once(self, send: Callable[[], Any],
                          already_done: Callable[[DocuSignError], Awaitable[DocuSignResult[Any] | None]]
                          ) -> DocuSignResult[Any]:
        """A write DocuSign must not apply twice (create, send, void, bulk send).

        After an uncertain failure (a limit error, 5xx, timeout or dropped connection: DocuSign may have done
        it) the client waits as the retry policy says, asks `already_done` whether it happened, and writes again
        only when it did not; once the retries are spent it asks one last time before raising. A definite 4xx
        is raised at once: nothing was done.
        """
        attempt = 0
        while True:
            try:
                return (await self._send(send)).result(attempt + 1)
            except DocuSignError as err:
                err.attempts = attempt + 1
                if not err.retryable:
                    raise
                wait = self._retry.delay(err, attempt)
                log.info("%s uncertain (%s, trace %s); checking whether it happened%s", sdk_operation(send),
                         err.error_code or err.status, err.trace_token,
                         f" before retry {attempt + 1} in {wait:.2f}s" if wait is not None else "")
                if wait is not None:
                    await asyncio.sleep(wait)
                done = await already_done(err)
                if done is not None:
                    return DocuSignResult(done.value, done.trace_token, attempt + 1, done.rate_limit)
                if wait is None:
                    raise
                attempt += 1

    async def _cached_read(self, envelope_id: str, kind: str, model: str, fn: Callable[[], Any]) -> DocuSignResult[Any]:
        field = f"{self.account_id}|{kind}"
        cached = await self._cache.get(envelope_id, field)
        if cached is not None:  # answered without calling DocuSign: no trace token, no attempt
            return DocuSignResult(self.api_client.deserialize(RawResponse(json.dumps(cached)), model), None, 0, None)
        result = await self._call(fn)
        await self._cache.set(envelope_id, field, self.api_client.sanitize_for_serialization(result.value))
        return result

    async def _call(self, fn: Callable[[], Any], *, retry: Retry = Retry.ALL) -> DocuSignResult[Any]:
        """One SDK call with the retry policy. `fn` must be a `*_with_http_info` call."""
        attempt = 0
        while True:
            try:
                return (await self._send(fn)).result(attempt + 1)
            except DocuSignError as err:
                err.attempts = attempt + 1
                allowed = retry is Retry.ALL or isinstance(err, RateLimited)
                wait = self._retry.delay(err, attempt) if allowed else None
                if wait is None:
                    raise
                log.info("DocuSign call failed (%s, trace %s); retry %d in %.2fs",
                         err.error_code or err.status, err.trace_token, attempt + 1, wait)
                await asyncio.sleep(wait)
                attempt += 1

    async def _send(self, fn: Callable[[], Any]) -> _Answer:
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

    async def _run(self, token: str, fn: Callable[[], Any]) -> _Answer:
        loop = asyncio.get_running_loop()
        operation = sdk_operation(fn)
        try:
            data, status, headers = await loop.run_in_executor(self._executor, self.api_client.run_as, token, fn)
        except ApiException as exc:
            DOCUSIGN_CALLS.labels(operation=operation, status=str(exc.status or 0)).inc()
            headers = exc.headers if getattr(exc, "headers", None) is not None else {}
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
        return _Answer(data, (headers or {}).get("X-DocuSign-TraceToken"), rate_limit_status(headers))


@dataclass(frozen=True)
class _Answer:
    """One HTTP answer: the SDK's model and what its headers said."""

    data: Any
    trace_token: str | None
    rate_limit: RateLimitStatus | None

    def result(self, attempts: int) -> DocuSignResult[Any]:
        return DocuSignResult(self.data, self.trace_token, attempts, self.rate_limit)


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
