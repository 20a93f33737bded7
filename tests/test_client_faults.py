"""DocuSign misbehaving: injected 5xx, limit errors, timeouts and applied-then-failed creates.

No envelope may ever be created twice, every call ends in a success or a clear DocuSignError, and a definite
4xx is never retried.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from docusign_esign import (
    BulkSendingCopy,
    BulkSendingCopyRecipient,
    BulkSendingList,
    BulkSendRequest,
    EnvelopeDefinition,
    TemplateRole,
)

from db.session import Database
from docusign_agent.settings import Settings
from tests.client_helpers import EmulatorServer, emulator, new_user  # noqa: F401
from docusign_client import DocuSignClient, DocuSignClients, DocuSignError, RateLimited, TransientDocuSignError
from docusign_client.errors import retry_after_seconds
from docusign_client.retry import RetryPolicy

ENVELOPES_POST = "POST /restapi/v2\\.1/accounts/[^/]+/envelopes$"
ANY_GET = "GET /restapi/"


@pytest.fixture(scope="module")
async def clients(settings: Settings, database: Database, emulator: EmulatorServer) -> AsyncIterator[DocuSignClients]:  # noqa: F811
    fast = settings.model_copy(update={"docusign_timeout_seconds": 0.5})
    registry = DocuSignClients(fast, database, emulator_url=emulator.url,
                               retry=RetryPolicy(max_retries=4, base_delay=0.02, max_delay=1.0))
    yield registry
    await registry.aclose()


@pytest.fixture(scope="module")
async def client(clients: DocuSignClients, database: Database) -> DocuSignClient:
    return await clients.for_user(await new_user(database))


@pytest.fixture(autouse=True)
def no_faults(emulator: EmulatorServer) -> Iterator[None]:  # noqa: F811
    emulator.control("DELETE", "/faults")
    yield
    emulator.control("DELETE", "/faults")


def nda(signer: str) -> EnvelopeDefinition:
    return EnvelopeDefinition(status="sent", template_roles=[
        TemplateRole(role_name="Party A", name="Ada Alpha", email="ada@example.com"),
        TemplateRole(role_name="Party B", name=signer, email=f"{signer.lower().replace(' ', '.')}@example.com")])


async def template_id(client: DocuSignClient) -> str:
    return (await client.list_templates(search_text="Mutual NDA")).value.envelope_templates[0].template_id  # type: ignore[no-any-return]


async def test_burst_of_creates_under_faults_never_duplicates(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    tid = await template_id(client)
    # The first three creates fail before anything is applied (checked first, so it always fires), so the
    # lookup finds nothing and the create really is retried...
    emulator.control("POST", "/faults", {"route": "POST /restapi/v2\\.1/accounts/[^/]+/envelopes", "kind": "500",
                                         "count": 3})
    # ...and then 20% of calls fail, creates after they were applied.
    for kind in ("500", "limit"):
        emulator.control("POST", "/faults", {"route": ENVELOPES_POST, "kind": kind, "rate": 0.2, "after": True})
        emulator.control("POST", "/faults", {"route": ANY_GET, "kind": kind, "rate": 0.2})

    request_ids = [str(uuid.uuid4()) for _ in range(30)]

    async def create(i: int, request_id: str) -> object:
        definition = nda(f"Signer {i}")
        definition.template_id = tid
        return (await client.create_envelope(definition, request_id=request_id)).value

    results = await asyncio.gather(*(create(i, r) for i, r in enumerate(request_ids)), return_exceptions=True)
    fired = {(f["route"], f["kind"]): f["fired"] for f in emulator.control("GET", "/faults")["faults"]}
    emulator.control("DELETE", "/faults")

    applied_then_failed = fired[(ENVELOPES_POST, "500")] + fired[(ENVELOPES_POST, "limit")]
    assert applied_then_failed > 0, "the burst should have hit some applied-then-failed creates"
    successes = 0
    for request_id, result in zip(request_ids, results, strict=True):
        created = emulator.envelopes_with_request_id(request_id)
        assert len(created) <= 1, f"request {request_id} created {len(created)} envelopes"
        if isinstance(result, BaseException):
            assert isinstance(result, DocuSignError), repr(result)
            assert result.user_message and result.error_code
        else:
            successes += 1
            assert created == [result.envelope_id]  # type: ignore[attr-defined]
    assert successes >= 25  # with 4 retries, failing for good is rare; each failure above was a clear error


async def test_applied_then_timed_out_create_is_found_not_repeated(client: DocuSignClient,
                                                                   emulator: EmulatorServer) -> None:  # noqa: F811
    tid = await template_id(client)
    emulator.control("POST", "/faults", {"route": ENVELOPES_POST, "kind": "timeout", "latency_ms": 1500,
                                         "after": True, "count": 1})
    request_id = str(uuid.uuid4())
    definition = nda("Tim Eout")
    definition.template_id = tid
    summary = (await client.create_envelope(definition, request_id=request_id)).value
    assert emulator.envelopes_with_request_id(request_id) == [summary.envelope_id]
    assert summary.status == "sent"


async def test_definite_error_is_not_retried(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    tid = await template_id(client)
    definition = EnvelopeDefinition(template_id=tid, status="sent", template_roles=[
        TemplateRole(role_name="Party A", name="Ada", email="not-an-email")])
    request_id = str(uuid.uuid4())
    with pytest.raises(DocuSignError) as caught:
        await client.create_envelope(definition, request_id=request_id)
    assert caught.value.error_code == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT" and not caught.value.retryable
    assert caught.value.user_message == "One of the recipients' email addresses isn't valid; check it and try again."
    assert caught.value.attempts == 1
    assert emulator.envelopes_with_request_id(request_id) == []


async def test_limit_errors_are_retried_and_counted(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    emulator.control("POST", "/faults", {"route": "GET /restapi/.*/templates$", "kind": "limit", "count": 2})
    templates = await client.list_templates()
    assert len(templates.value.envelope_templates) == 3
    assert templates.attempts == 3


async def test_persistent_5xx_ends_in_a_transient_error(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    emulator.control("POST", "/faults", {"route": "GET /restapi/.*/templates$", "kind": "500"})
    with pytest.raises(TransientDocuSignError) as caught:
        await client.list_templates()
    assert caught.value.attempts == 5  # 1 + settings' 4 retries
    assert caught.value.status == 500 and caught.value.trace_token
    assert "temporary problem" in caught.value.user_message


async def test_void_after_applied_then_failed_put_is_not_an_error(client: DocuSignClient,
                                                                  emulator: EmulatorServer) -> None:  # noqa: F811
    tid = await template_id(client)
    definition = nda("Vo Id")
    definition.template_id = tid
    envelope_id = (await client.create_envelope(definition, request_id=str(uuid.uuid4()))).value.envelope_id
    emulator.control("POST", "/faults", {"route": f"PUT /restapi/.*/envelopes/{envelope_id}$", "kind": "500",
                                         "after": True, "count": 1})
    await client.void_envelope(envelope_id, "duplicate")  # the retry sees it voided instead of failing
    assert emulator.state.envelopes[envelope_id].status == "voided"


async def test_hourly_limit_reset_is_honoured_not_hammered(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    emulator.control("POST", "/config", {"rate_limit_per_hour": 1})  # also resets the counters: one call left
    try:
        await client.list_templates()
        with pytest.raises(RateLimited) as caught:
            await client.list_templates()
    finally:
        emulator.control("POST", "/config", {"rate_limit_per_hour": 3000})
    error = caught.value
    assert error.error_code == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    assert error.attempts == 1  # the reset is beyond the retry cap: no retry before it
    assert error.retry_after is not None and 0 < error.retry_after <= 3600
    assert error.retry_after == pytest.approx(3600 - time.time() % 3600, abs=5)
    assert "hourly API limit" in error.user_message


def test_retry_after_headers() -> None:
    now = 1_000_000.0
    assert retry_after_seconds({"Retry-After": "7"}, now=now) == 7
    assert retry_after_seconds({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000030"}, now=now) == 30
    # the hourly reset is sent on every answer; it only means "wait" once the budget is spent
    assert retry_after_seconds({"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "1000030"}, now=now) is None
    assert retry_after_seconds({}, now=now) is None


def test_retry_policy_waits_at_least_the_hint_and_gives_up_beyond_the_cap() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=2.0)
    soon = RateLimited("slow down", status=429, retry_after=1.5)
    assert all(1.5 <= policy.delay(soon, attempt) <= 2.0 for attempt in range(3))  # type: ignore[operator]
    assert policy.delay(soon, 3) is None
    assert policy.delay(RateLimited("hourly", status=400, retry_after=1800), 0) is None
    assert policy.delay(DocuSignError("bad", status=400, error_code="INVALID_REQUEST_PARAMETER"), 0) is None
    assert 0 <= policy.delay(TransientDocuSignError("oops", status=503), 0) <= 0.001  # type: ignore[operator]


BULK_SEND = "POST /restapi/v2\\.1/accounts/[^/]+/bulk_send_lists/[^/]+/send$"


async def _offer_list(client: DocuSignClient, name: str) -> tuple[str, str]:
    template = (await client.list_templates(search_text="Offer Letter")).value.envelope_templates[0].template_id
    created = await client.create_bulk_send_list(BulkSendingList(name=name, bulk_copies=[BulkSendingCopy(recipients=[
        BulkSendingCopyRecipient(role_name="Employee", name=f"Candidate {i}", email=f"c{i}-{name}@example.com"),
        BulkSendingCopyRecipient(role_name="Hiring Manager", name="Hana", email="hana@example.com")])
        for i in range(2)]))
    return template, created.value.list_id


async def test_bulk_send_applied_then_timed_out_is_found_not_sent_twice(client: DocuSignClient,
                                                                       emulator: EmulatorServer) -> None:  # noqa: F811
    template, list_id = await _offer_list(client, f"offers-{uuid.uuid4().hex[:6]}")
    emulator.control("POST", "/faults", {"route": BULK_SEND, "kind": "timeout", "latency_ms": 10, "after": True,
                                         "count": 1})
    sent = await client.send_bulk(list_id, BulkSendRequest(envelope_or_template_id=template, batch_name="offers"))
    batches = [b for b in emulator.state.bulk_batches.values() if b.list_id == list_id]
    assert [b.batch_id for b in batches] == [sent.value.batch_id]  # queued once, and found, not sent again
    assert sent.attempts == 1


async def test_bulk_send_whose_outcome_cannot_be_known_says_so(client: DocuSignClient,
                                                              emulator: EmulatorServer) -> None:  # noqa: F811
    template, list_id = await _offer_list(client, f"offers-{uuid.uuid4().hex[:6]}")
    emulator.control("POST", "/faults", {"route": BULK_SEND, "kind": "500", "after": True, "count": 1})
    emulator.control("POST", "/faults", {"route": "GET /restapi/v2\\.1/accounts/[^/]+/bulk_send_batch", "kind": "500"})
    with pytest.raises(TransientDocuSignError) as caught:
        await client.send_bulk(list_id, BulkSendRequest(envelope_or_template_id=template, batch_name="offers"))
    assert caught.value.error_code == "BULK_SEND_UNCERTAIN" and "may be sending" in caught.value.user_message
    assert len([b for b in emulator.state.bulk_batches.values() if b.list_id == list_id]) == 1  # it was queued
