"""An envelope's whole life through DocuSignClient against the emulator: provision, create, read, sign,
complete, download, void rules, correction, resend, drafts, embedded signing, templates, bulk send, Connect."""

from __future__ import annotations

from typing import Any
import base64
import io
import uuid
import zipfile
from collections.abc import AsyncIterator

import pytest
from docusign_esign import (
    BulkSendingCopy,
    BulkSendingCopyRecipient,
    BulkSendingList,
    BulkSendRequest,
    CarbonCopy,
    ConnectCustomConfiguration,
    Document,
    EnvelopeDefinition,
    Recipients,
    RecipientViewRequest,
    Signer,
    SignHere,
    Tabs,
    TemplateRole,
)
from pypdf import PdfReader
from sqlalchemy import select

from db.models import ApiCredential, Profile
from db.session import Database
from docusign_agent.settings import Settings
from tests.servers import await_until
from tests.client_helpers import EmulatorServer, emulator, make_pdf, new_user  # noqa: F401
from docusign_client import DocuSignClient, DocuSignClients, DocuSignError
from docusign_client.retry import RetryPolicy

FAST_RETRY = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=1.0)


@pytest.fixture(scope="module")
async def clients(settings: Settings, database: Database, emulator: EmulatorServer) -> AsyncIterator[DocuSignClients]:  # noqa: F811
    registry = DocuSignClients(settings, database, emulator_url=emulator.url, retry=FAST_RETRY)
    yield registry
    await registry.aclose()


@pytest.fixture(scope="module")
async def user(database: Database) -> uuid.UUID:
    return await new_user(database)


@pytest.fixture(scope="module")
async def client(clients: DocuSignClients, user: uuid.UUID) -> DocuSignClient:
    return await clients.for_user(user)


def document_envelope(signer_email: str, *, status: str = "sent", client_user_id: str | None = None) -> EnvelopeDefinition:
    pdf = make_pdf("Consulting Agreement")
    return EnvelopeDefinition(
        email_subject="Please sign the consulting agreement",
        documents=[Document(document_base64=base64.b64encode(pdf).decode(), name="agreement.pdf",
                            file_extension="pdf", document_id="1")],
        recipients=Recipients(
            signers=[Signer(email=signer_email, name="Sam Signer", recipient_id="1", routing_order="1",
                            client_user_id=client_user_id,
                            tabs=Tabs(sign_here_tabs=[SignHere(anchor_string="/sn1/", anchor_units="pixels",
                                                               anchor_x_offset="20", anchor_y_offset="-5")]))],
            carbon_copies=[CarbonCopy(email="cc@example.com", name="Casey Copy", recipient_id="2", routing_order="2")],
        ),
        status=status,
    )


async def test_provisioning_stores_encrypted_credentials_and_marks_profile(
        client: DocuSignClient, database: Database, user: uuid.UUID, emulator: EmulatorServer) -> None:  # noqa: F811
    async with database.owner_session() as session:
        row = (await session.execute(select(ApiCredential).where(ApiCredential.user_id == user))).scalar_one()
        profile = (await session.execute(select(Profile).where(Profile.id == user))).scalar_one()
    assert row.grant_type == "jwt" and row.status == "active"
    assert not any(token.encode() in row.access_token for token in emulator.state.access_tokens)
    assert profile.docusign_account_id == client.account_id == row.account_id
    assert profile.docusign_user_id == row.docusign_user_id
    assert emulator.state.users[row.docusign_user_id].email == profile.email
    assert client.base_uri == emulator.url


async def test_document_envelope_to_completion(client: DocuSignClient, clients: DocuSignClients,
                                               emulator: EmulatorServer) -> None:  # noqa: F811
    request_id = str(uuid.uuid4())
    created = await client.create_envelope(document_envelope("sam@example.com"), request_id=request_id)
    summary = created.value
    envelope_id = summary.envelope_id
    assert summary.status == "sent" and created.trace_token and created.attempts == 1
    assert emulator.envelopes_with_request_id(request_id) == [envelope_id]

    listed = (await client.list_envelopes(status="sent")).value
    assert envelope_id in [e.envelope_id for e in listed.envelopes]
    searched = (await client.list_envelopes(search_text="consulting agreement", envelope_ids=[envelope_id])).value
    assert [e.envelope_id for e in searched.envelopes] == [envelope_id]

    read = await client.get_envelope(envelope_id, include="custom_fields")
    envelope = read.value
    assert envelope.status == "sent" and envelope.email_subject == "Please sign the consulting agreement"
    hidden = {f.name: (f.value, f.show) for f in envelope.custom_fields.text_custom_fields}
    assert hidden["dsa_request_id"] == (request_id, "false")
    assert read.rate_limit is not None and read.rate_limit.limit == 3000
    cached = await client.get_envelope(envelope_id, include="custom_fields")  # answered by the read cache
    assert cached.value.envelope_id == envelope_id and (cached.attempts, cached.trace_token) == (0, None)

    recipients = (await client.list_recipients(envelope_id)).value
    assert [(s.email, s.status) for s in recipients.signers] == [("sam@example.com", "sent")]
    assert [c.email for c in recipients.carbon_copies] == ["cc@example.com"]

    emulator.control("POST", f"/envelopes/{envelope_id}/sign", {"recipient_id": "1"})
    await clients.invalidate(envelope_id)  # what the Connect worker does on the completed event
    completed = (await client.get_envelope(envelope_id)).value
    assert completed.status == "completed" and completed.completed_date_time

    documents = (await client.list_documents(envelope_id)).value
    assert {d.document_id for d in documents.envelope_documents} == {"1", "certificate"}
    combined = PdfReader(io.BytesIO((await client.get_document(envelope_id, "combined")).value))
    assert "Consulting Agreement" in combined.pages[0].extract_text()
    certificate = PdfReader(io.BytesIO((await client.get_document(envelope_id, "certificate")).value))
    assert envelope_id.upper() in "".join(page.extract_text() for page in certificate.pages).upper()
    with zipfile.ZipFile(io.BytesIO((await client.get_document(envelope_id, "archive")).value)) as archive:
        assert archive.namelist()

    audit = (await client.list_audit_events(envelope_id)).value
    actions = [next(f.value for f in e.event_fields if f.name == "Action") for e in audit.audit_events]
    assert "Sent Invitations" in actions and "Signed" in actions

    with pytest.raises(DocuSignError) as caught:
        await client.void_envelope(envelope_id, "changed my mind")
    assert caught.value.error_code == "ENVELOPE_CANNOT_VOID_INVALID_STATE" and caught.value.status == 400
    assert caught.value.user_message == "The envelope is already completed (or declined/voided), so it can't be voided."
    assert caught.value.trace_token
    assert caught.value.attempts == 1  # a definite 4xx is not retried


async def test_template_envelope_correct_resend_void(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    templates = (await client.list_templates(search_text="NDA")).value
    assert [t.name for t in templates.envelope_templates] == ["Mutual NDA"]
    template = (await client.get_template(templates.envelope_templates[0].template_id)).value
    roles = [s.role_name for s in template.recipients.signers]
    assert roles == ["Party A", "Party B"]

    definition = EnvelopeDefinition(template_id=template.template_id, status="sent", template_roles=[
        TemplateRole(role_name="Party A", name="Ada Alpha", email="ada@example.com"),
        TemplateRole(role_name="Party B", name="Bo Beta", email="bo-typo@exmaple.com"),
    ])
    envelope_id = (await client.create_envelope(definition, request_id=str(uuid.uuid4()))).value.envelope_id
    before = (await client.list_recipients(envelope_id)).value
    party_b = next(s for s in before.signers if s.role_name == "Party B")

    result = (await client.update_recipients(
        envelope_id, Recipients(signers=[Signer(recipient_id=party_b.recipient_id, email="bo@example.com",
                                                name="Bo Beta")]), resend=True)).value
    assert [r.error_details.error_code for r in result.recipient_update_results] == ["SUCCESS"]
    after = (await client.list_recipients(envelope_id)).value  # the correction invalidated the cached read
    assert "bo@example.com" in [s.email for s in after.signers]

    with pytest.raises(DocuSignError) as bad_email:
        await client.update_recipients(envelope_id, Recipients(signers=[Signer(recipient_id="1", email="not-an-email")]))
    assert bad_email.value.error_code == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"

    await client.resend_envelope(envelope_id)
    assert emulator.state.envelopes[envelope_id].audit[-1].action == "Resent"

    with pytest.raises(DocuSignError) as no_reason:
        await client.void_envelope(envelope_id, "  ")
    assert no_reason.value.error_code == "INVALID_REQUEST_PARAMETER"
    await client.void_envelope(envelope_id, "Sent to the wrong counterparty")
    voided = (await client.get_envelope(envelope_id)).value
    assert voided.status == "voided" and voided.voided_reason == "Sent to the wrong counterparty"
    with pytest.raises(DocuSignError) as again:
        await client.void_envelope(envelope_id, "twice")
    assert again.value.error_code == "ENVELOPE_CANNOT_VOID_INVALID_STATE"
    with pytest.raises(DocuSignError) as resend_voided:
        await client.resend_envelope(envelope_id)
    assert resend_voided.value.error_code == "ENVELOPE_INVALID_STATUS"


async def test_draft_send_and_embedded_signing(client: DocuSignClient) -> None:
    definition = document_envelope("embedded@example.com", status="created", client_user_id="emb-1")
    envelope_id = (await client.create_envelope(definition, request_id=str(uuid.uuid4()))).value.envelope_id
    assert (await client.get_envelope(envelope_id)).value.status == "created"
    await client.send_draft(envelope_id)
    assert (await client.get_envelope(envelope_id)).value.status == "sent"  # send invalidated the cached draft
    view = (await client.create_recipient_view(envelope_id, RecipientViewRequest(
        return_url="http://127.0.0.1/return", authentication_method="none", client_user_id="emb-1",
        user_name="Sam Signer", email="embedded@example.com", recipient_id="1"))).value
    assert view.url.startswith("http://127.0.0.1:") and "/signing/" in view.url


async def test_unknown_template_and_envelope_have_plain_messages(client: DocuSignClient) -> None:
    with pytest.raises(DocuSignError) as template:
        await client.create_envelope(EnvelopeDefinition(template_id=str(uuid.uuid4()), status="sent"),
                                     request_id=str(uuid.uuid4()))
    assert template.value.error_code == "TEMPLATE_ID_INVALID"
    assert template.value.user_message == "That template doesn't exist in this DocuSign account."
    with pytest.raises(DocuSignError) as envelope:
        await client.get_envelope(str(uuid.uuid4()))
    assert envelope.value.error_code == "ENVELOPE_DOES_NOT_EXIST"


async def test_bulk_send_batch_to_completion(client: DocuSignClient, emulator: EmulatorServer) -> None:  # noqa: F811
    template_id = (await client.list_templates(search_text="Offer Letter")).value.envelope_templates[0].template_id
    people = [(f"Candidate {i}", f"candidate{i}@example.com") for i in range(3)]
    bulk_list = (await client.create_bulk_send_list(BulkSendingList(name="Offers", bulk_copies=[
        BulkSendingCopy(recipients=[
            BulkSendingCopyRecipient(role_name="Employee", name=name, email=email),
            BulkSendingCopyRecipient(role_name="Hiring Manager", name="Hana Manager", email="hana@example.com"),
        ]) for name, email in people]))).value
    response = (await client.send_bulk(bulk_list.list_id, BulkSendRequest(envelope_or_template_id=template_id,
                                                                         batch_name="Spring offers"))).value
    assert response.batch_id and response.batch_size == "3"
    async def batch_done() -> Any:
        status = (await client.get_bulk_batch(response.batch_id)).value
        return status if status.queued == "0" else None

    status = await await_until(batch_done, timeout=60)
    assert (status.sent, status.failed, status.queued) == ("3", "0", "0")
    batch = emulator.state.bulk_batches[response.batch_id]
    emails = sorted(next(r.email for r in emulator.state.envelopes[e].recipients if r.role_name == "Employee")
                    for e in batch.envelope_ids)
    assert emails == sorted(email for _, email in people)


async def test_connect_configurations(client: DocuSignClient) -> None:
    created = (await client.create_connect_config(ConnectCustomConfiguration(
        name="agent", url_to_publish_to="http://127.0.0.1:9/webhooks/docusign", configuration_type="custom",
        all_users="true", include_hmac="true", delivery_mode="SIM", events=["envelope-completed"]))).value
    assert created.connect_id
    listed = (await client.list_connect_configs()).value
    assert created.connect_id in [c.connect_id for c in listed.configurations]
    created.name = "agent (renamed)"
    updated = (await client.update_connect_config(created)).value
    assert updated.name == "agent (renamed)"
