"""Envelope lifecycles through the official SDK over real HTTP, with Connect deliveries to a real listener."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import httpx
import pytest
from docusign_esign import (
    CarbonCopy,
    CustomFields,
    Document,
    EnvelopeDefinition,
    EnvelopesApi,
    Recipients,
    RecipientViewRequest,
    Signer,
    SignHere,
    Tabs,
    TemplateRole,
    TemplatesApi,
    TextCustomField,
)
from docusign_esign.client.api_exception import ApiException

pytest.register_assert_rewrite("emulator_helpers")
from emulator_helpers import Emu, Listener, Session, hmac_b64, pdf_base64, wait_for
from pypdf import PdfReader




def ds_error(exc: ApiException) -> dict[str, str]:
    return json.loads(exc.body)


def signer(rid: str, name: str, order: str, **extra: Any) -> Signer:
    return Signer(
        recipient_id=rid,
        name=name,
        email=f"{name.lower().replace(' ', '.')}@example.com",
        routing_order=order,
        **extra,
    )


def make_envelope(
    s: Session,
    *,
    status: str = "sent",
    signers: list[Signer] | None = None,
    ccs: list[CarbonCopy] | None = None,
    **extra: Any,
) -> str:
    definition = EnvelopeDefinition(
        email_subject=extra.pop("email_subject", "Please sign the pilot agreement"),
        status=status,
        documents=[
            Document(
                document_id="1",
                name="Pilot Agreement.pdf",
                document_base64=pdf_base64("The pilot runs for 90 days.\n\nFees: $4,000 per month."),
            )
        ],
        recipients=Recipients(
            signers=signers
            if signers is not None
            else [
                signer(
                    "1",
                    "Alice Adams",
                    "1",
                    tabs=Tabs(sign_here_tabs=[SignHere(anchor_string="/sig1/", anchor_x_offset="30")]),
                ),
                signer("2", "Bob Brown", "2"),
            ],
            carbon_copies=ccs,
        ),
        **extra,
    )
    return (
        EnvelopesApi(s.api_client).create_envelope(s.account_id, envelope_definition=definition).envelope_id
    )


def control_sign(emu: Emu, env_id: str, rid: str) -> httpx.Response:
    return emu.control("POST", f"/envelopes/{env_id}/sign", {"recipient_id": rid})


def test_documents_envelope_signs_in_routing_order_and_completes(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    env_id = make_envelope(
        s, ccs=[CarbonCopy(recipient_id="3", name="Carol Copy", email="carol@example.com", routing_order="3")]
    )
    recips = api.list_recipients(s.account_id, env_id)
    assert [r.status for r in recips.signers] == ["sent", "created"]
    assert recips.carbon_copies[0].status == "created"

    early = control_sign(emu, env_id, "2")
    assert early.status_code == 400 and early.json()["errorCode"] == "RECIPIENT_NOT_IN_SEQUENCE"
    assert "routing order 2" in early.json()["message"]
    assert [r.status for r in api.list_recipients(s.account_id, env_id).signers] == ["sent", "created"]

    assert control_sign(emu, env_id, "1").json()["recipient_status"] == "completed"
    assert api.get_envelope(s.account_id, env_id).status == "delivered"
    again = control_sign(emu, env_id, "1")
    assert again.status_code == 400 and again.json()["errorCode"] == "RECIPIENT_ALREADY_ACTED"
    assert control_sign(emu, env_id, "2").json()["status"] == "completed"
    env = api.get_envelope(s.account_id, env_id)
    assert env.status == "completed" and env.completed_date_time
    recips = api.list_recipients(s.account_id, env_id)
    assert all(r.signed_date_time for r in recips.signers)
    assert recips.carbon_copies[0].status == "completed"
    late = control_sign(emu, env_id, "2")
    assert late.status_code == 400 and late.json()["errorCode"] == "ENVELOPE_INVALID_STATUS"

    combined = PdfReader(io.BytesIO(api.get_document(s.account_id, "combined", env_id)))
    text = "\n".join(p.extract_text() for p in combined.pages)
    assert "Fees: $4,000 per month." in text
    assert "Signed by Alice Adams" in text and "Signed by Bob Brown" in text
    assert f"Envelope ID: {env_id.upper()}" in text

    cert = PdfReader(io.BytesIO(api.get_document(s.account_id, "certificate", env_id)))
    cert_text = "\n".join(p.extract_text() for p in cert.pages)
    for needle in (
        "Certificate Of Completion",
        env_id.upper(),
        "Please sign the pilot agreement",
        "Alice Adams",
        "Bob Brown",
        "Carol Copy",
        "Signed:",
        "Completed",
    ):
        assert needle in cert_text, needle

    archive = zipfile.ZipFile(io.BytesIO(api.get_document(s.account_id, "archive", env_id)))
    names = archive.namelist()
    assert "Summary.pdf" in names and "1_Pilot Agreement.pdf" in names
    assert (
        "Signed by Bob Brown"
        in PdfReader(io.BytesIO(archive.read("1_Pilot Agreement.pdf"))).pages[0].extract_text()
    )

    audit = api.list_audit_events(s.account_id, env_id).audit_events
    actions = [next(f.value for f in e.event_fields if f.name == "Action") for e in audit]
    assert actions == ["Registered", "Sent Invitations", "Viewed", "Signed", "Viewed", "Signed", "Completed"]


def test_template_envelope_uses_roles_and_real_document_text(emu: Emu, session: Session) -> None:
    s = session
    tpl = (
        TemplatesApi(s.api_client).list_templates(s.account_id, search_text="Services").envelope_templates[0]
    )
    api = EnvelopesApi(s.api_client)
    before = len(emu.emulator.state.envelopes)
    with pytest.raises(ApiException) as bad_role:
        api.create_envelope(
            s.account_id,
            envelope_definition=EnvelopeDefinition(
                template_id=tpl.template_id,
                status="sent",
                template_roles=[TemplateRole(role_name="Customer", name="X", email="x@example.com")],
            ),
        )
    assert ds_error(bad_role.value)["errorCode"] == "INVALID_REQUEST_PARAMETER"
    assert "Customer" in ds_error(bad_role.value)["message"]
    with pytest.raises(ApiException) as bad_tpl:
        api.create_envelope(
            s.account_id, envelope_definition=EnvelopeDefinition(template_id=str(uuid.uuid4()), status="sent")
        )
    assert ds_error(bad_tpl.value)["errorCode"] == "TEMPLATE_ID_INVALID"
    assert len(emu.emulator.state.envelopes) == before

    summary = api.create_envelope(
        s.account_id,
        envelope_definition=EnvelopeDefinition(
            template_id=tpl.template_id,
            status="sent",
            template_roles=[
                TemplateRole(role_name="Client", name="Gina Globex", email="gina@globex.example"),
                TemplateRole(
                    role_name="Provider",
                    name="Ian Initech",
                    email="ian@initech.example",
                    client_user_id="ian-1",
                ),
            ],
        ),
    )
    env = api.get_envelope(s.account_id, summary.envelope_id, include="recipients")
    assert env.email_subject == "Please sign the Services Agreement"
    recips = api.list_recipients(s.account_id, summary.envelope_id, include_tabs="true")
    assert [(r.role_name, r.name, r.status) for r in recips.signers] == [
        ("Client", "Gina Globex", "sent"),
        ("Provider", "Ian Initech", "created"),
    ]
    tab = recips.signers[0].tabs.sign_here_tabs[0]
    assert tab.anchor_string == "/sn1/" and tab.page_number and int(tab.x_position) > 0
    text = "\n".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(api.get_document(s.account_id, "1", summary.envelope_id))).pages
    )
    for needle in (
        "Globex Corporation",
        "Initech Consulting",
        "$18,500",
        "renews automatically",
        "ninety (90) days",
    ):
        assert needle in text, needle


def test_draft_send_and_incomplete_envelope(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    draft = make_envelope(s, status="created")
    assert api.get_envelope(s.account_id, draft).status == "created"
    api.update(s.account_id, draft, envelope={"status": "sent"})
    assert api.get_envelope(s.account_id, draft).status == "sent"

    empty = make_envelope(s, status="created", signers=[])
    with pytest.raises(ApiException) as info:
        api.update(s.account_id, empty, envelope={"status": "sent"})
    assert ds_error(info.value)["errorCode"] == "ENVELOPE_IS_INCOMPLETE"
    assert api.get_envelope(s.account_id, empty).status == "created"

    bad = s.rest(
        "POST",
        "/envelopes",
        json={
            "status": "sent",
            "emailSubject": "x",
            "documents": [{"documentId": "1", "name": "a.pdf", "documentBase64": "bm90IGEgcGRm"}],
            "recipients": {"signers": [{"recipientId": "1", "name": "A", "email": "a@example.com"}]},
        },
    )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "FORMAT_CONVERSION_ERROR"
    anchor = s.rest(
        "POST",
        "/envelopes",
        json={
            "status": "sent",
            "emailSubject": "x",
            "documents": [{"documentId": "1", "name": "a.pdf", "documentBase64": pdf_base64("text")}],
            "recipients": {
                "signers": [
                    {
                        "recipientId": "1",
                        "name": "A",
                        "email": "a@example.com",
                        "tabs": {"signHereTabs": [{"anchorString": "/nowhere/"}]},
                    }
                ]
            },
        },
    )
    assert anchor.status_code == 400 and anchor.json()["errorCode"] == "ANCHOR_TAB_STRING_NOT_FOUND"
    email = s.rest(
        "POST",
        "/envelopes",
        json={
            "status": "sent",
            "emailSubject": "x",
            "documents": [{"documentId": "1", "name": "a.pdf", "documentBase64": pdf_base64("text")}],
            "recipients": {"signers": [{"recipientId": "1", "name": "A", "email": "not-an-email"}]},
        },
    )
    assert email.json()["errorCode"] == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"
    garbage = s.rest("POST", "/envelopes", content=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["errorCode"] == "INVALID_REQUEST_BODY"


def test_void_rules(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    env_id = make_envelope(s)
    with pytest.raises(ApiException) as no_reason:
        api.update(s.account_id, env_id, envelope={"status": "voided"})
    err = ds_error(no_reason.value)
    assert err["errorCode"] == "INVALID_REQUEST_PARAMETER" and "voidedReason" in err["message"]
    assert api.get_envelope(s.account_id, env_id).status == "sent"

    api.update(s.account_id, env_id, envelope={"status": "voided", "voidedReason": "Wrong counterparty"})
    env = api.get_envelope(s.account_id, env_id)
    assert env.status == "voided" and env.voided_reason == "Wrong counterparty" and env.voided_date_time
    with pytest.raises(ApiException) as twice:
        api.update(s.account_id, env_id, envelope={"status": "voided", "voidedReason": "again"})
    assert ds_error(twice.value) == {
        "errorCode": "ENVELOPE_CANNOT_VOID_INVALID_STATE",
        "message": "Only envelopes in the 'Sent' or 'Delivered' states may be voided.",
    }
    assert control_sign(emu, env_id, "1").json()["errorCode"] == "ENVELOPE_INVALID_STATUS"

    done = make_envelope(s, signers=[signer("1", "Solo Signer", "1")])
    control_sign(emu, done, "1")
    with pytest.raises(ApiException) as completed:
        api.update(s.account_id, done, envelope={"status": "voided", "voidedReason": "too late"})
    assert ds_error(completed.value)["errorCode"] == "ENVELOPE_CANNOT_VOID_INVALID_STATE"
    assert api.get_envelope(s.account_id, done).status == "completed"

    draft = make_envelope(s, status="created")
    with pytest.raises(ApiException) as draft_void:
        api.update(s.account_id, draft, envelope={"status": "voided", "voidedReason": "draft"})
    assert ds_error(draft_void.value)["errorCode"] == "ENVELOPE_CANNOT_VOID_INVALID_STATE"

    declined = make_envelope(s)
    bad = emu.control("POST", f"/envelopes/{declined}/decline", {"recipient_id": "1"})
    assert bad.status_code == 400 and "reason" in bad.json()["message"]
    assert (
        emu.control(
            "POST", f"/envelopes/{declined}/decline", {"recipient_id": "1", "reason": "Terms too broad"}
        ).json()["status"]
        == "declined"
    )
    assert api.list_recipients(s.account_id, declined).signers[0].declined_reason == "Terms too broad"
    assert control_sign(emu, declined, "2").status_code == 400


def test_correction_and_resend(emu: Emu, session: Session, listener: Listener) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    env_id = make_envelope(
        s,
        event_notification={
            "url": listener.hook("corrections"),
            "events": ["envelope-corrected", "envelope-resent", "recipient-resent"],
        },
    )
    api.update_recipients(
        s.account_id,
        env_id,
        recipients=Recipients(
            signers=[Signer(recipient_id="2", name="Bob Brown-Smith", email="bob.smith@example.com")]
        ),
    )
    second = api.list_recipients(s.account_id, env_id).signers[1]
    assert (second.name, second.email) == ("Bob Brown-Smith", "bob.smith@example.com")

    bad = s.rest(
        "PUT", f"/envelopes/{env_id}/recipients", json={"signers": [{"recipientId": "2", "email": "broken"}]}
    )
    assert bad.json()["errorCode"] == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"
    unknown = s.rest(
        "PUT", f"/envelopes/{env_id}/recipients", json={"signers": [{"recipientId": "9", "name": "Z"}]}
    )
    assert unknown.json()["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"
    assert api.list_recipients(s.account_id, env_id).signers[1].email == "bob.smith@example.com"

    api.update(s.account_id, env_id, resend_envelope="true")
    api.update_recipients(s.account_id, env_id, recipients=Recipients(signers=[]), resend_envelope="true")
    control_sign(emu, env_id, "1")
    signed = s.rest(
        "PUT", f"/envelopes/{env_id}/recipients", json={"signers": [{"recipientId": "1", "name": "New"}]}
    )
    assert signed.status_code == 400 and signed.json()["errorCode"] == "RECIPIENT_UPDATE_FAILED"
    control_sign(emu, env_id, "2")
    after = s.rest(
        "PUT", f"/envelopes/{env_id}/recipients", json={"signers": [{"recipientId": "2", "name": "Late"}]}
    )
    assert after.status_code == 400 and after.json()["errorCode"] == "ENVELOPE_INVALID_STATUS"
    resend_done = s.rest("PUT", f"/envelopes/{env_id}", params={"resend_envelope": "true"}, json={})
    assert resend_done.json()["errorCode"] == "ENVELOPE_INVALID_STATUS"
    assert api.list_recipients(s.account_id, env_id).signers[1].name == "Bob Brown-Smith"

    events = wait_for(
        lambda: (lambda got: got if len(got) >= 5 else None)(
            [json.loads(r.body)["event"] for r in listener.for_envelope(env_id, "corrections")]
        )
    )
    assert events.count("envelope-corrected") == 1
    assert events.count("envelope-resent") == 2 and events.count("recipient-resent") == 2


def test_list_status_changes_filters(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    tag = str(uuid.uuid4())
    ids = [
        make_envelope(
            s,
            custom_fields=CustomFields(
                text_custom_fields=[TextCustomField(name="request_id", value=f"{tag}-{i}")]
            ),
            email_subject=f"Batch {tag} #{i}",
        )
        for i in range(3)
    ]
    control_sign(emu, ids[0], "1")
    control_sign(emu, ids[0], "2")
    hit = api.list_status_changes(
        s.account_id, from_date="2020-01-01", custom_field=f"request_id={tag}-1", include="custom_fields"
    )
    assert [e.envelope_id for e in hit.envelopes] == [ids[1]]
    assert hit.envelopes[0].custom_fields.text_custom_fields[0].value == f"{tag}-1"
    done = api.list_status_changes(s.account_id, from_date="2020-01-01", status="completed", search_text=tag)
    assert [e.envelope_id for e in done.envelopes] == [ids[0]]
    by_ids = api.list_status_changes(s.account_id, envelope_ids=",".join(ids[1:]))
    assert sorted(e.envelope_id for e in by_ids.envelopes) == sorted(ids[1:])
    page = s.rest(
        "GET", "/envelopes", params={"from_date": "2020-01-01", "search_text": tag, "count": "2"}
    ).json()
    assert (
        page["resultSetSize"] == "2" and page["totalSetSize"] == "3" and "start_position=2" in page["nextUri"]
    )
    rest = s.rest(
        "GET",
        "/envelopes",
        params={"from_date": "2020-01-01", "search_text": tag, "count": "2", "start_position": "2"},
    ).json()
    assert rest["resultSetSize"] == "1" and "nextUri" not in rest
    future = api.list_status_changes(s.account_id, from_date="2999-01-01")
    assert future.result_set_size == "0"
    bad = s.rest("GET", "/envelopes", params={"from_date": "yesterday-ish"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"
    bad_status = s.rest("GET", "/envelopes", params={"from_date": "2020-01-01", "status": "finished"})
    assert bad_status.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"


def test_other_users_account_and_envelopes_are_invisible(
    emu: Emu, session: Session, integration: Any
) -> None:
    from emulator_helpers import new_session

    other = new_session(emu, integration, name="Other User")
    env_id = make_envelope(session)
    cross = other.rest("GET", f"/envelopes/{env_id}")
    assert cross.status_code == 400
    other.account_id, mine = session.account_id, other.account_id
    stolen = other.rest("GET", f"/envelopes/{env_id}")
    assert stolen.json()["errorCode"] == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"
    other.account_id = mine


def test_bulk_send_batch_reaches_completion(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    tpl_id = (
        TemplatesApi(s.api_client)
        .list_templates(s.account_id, search_text="Mutual NDA")
        .envelope_templates[0]
        .template_id
    )
    rows = [
        {
            "recipients": [
                {"roleName": "Party A", "name": f"A{i}", "email": f"a{i}@example.com"},
                {"roleName": "Party B", "name": f"B{i}", "email": f"b{i}@example.com"},
            ],
            "customFields": [{"name": "row", "value": str(i)}],
        }
        for i in range(3)
    ]
    lst = s.rest("POST", "/bulk_send_lists", json={"name": "NDA wave", "bulkCopies": rows}).json()

    batches_before = len(emu.emulator.state.bulk_batches)
    wrong = s.rest(
        "POST",
        "/bulk_send_lists",
        json={
            "name": "bad",
            "bulkCopies": [{"recipients": [{"roleName": "Party Z", "name": "Z", "email": "z@example.com"}]}],
        },
    ).json()
    refused = s.rest(
        "POST", f"/bulk_send_lists/{wrong['listId']}/send", json={"envelopeOrTemplateId": tpl_id}
    )
    assert refused.status_code == 400 and "Party Z" in refused.json()["message"]
    assert s.rest("POST", "/bulk_send_lists", json={"name": "x", "bulkCopies": []}).status_code == 400
    assert len(emu.emulator.state.bulk_batches) == batches_before

    batch_id = s.rest(
        "POST",
        f"/bulk_send_lists/{lst['listId']}/send",
        json={"envelopeOrTemplateId": tpl_id, "batchName": "wave 1"},
    ).json()["batchId"]
    status = wait_for(
        lambda: (lambda b: b if b["queued"] == "0" else None)(
            s.rest("GET", f"/bulk_send_batch/{batch_id}").json()
        )
    )
    assert status["sent"] == "3" and status["failed"] == "0" and status["batchSize"] == "3"
    envs = s.rest("GET", f"/bulk_send_batch/{batch_id}/envelopes").json()["envelopes"]
    for env in envs:
        assert control_sign(emu, env["envelopeId"], "1").status_code == 200
        assert control_sign(emu, env["envelopeId"], "2").json()["status"] == "completed"
    final = s.rest("GET", f"/bulk_send_batch/{batch_id}").json()
    assert final["envelopesInfo"]["completed"] == "3"
    one = api.get_envelope(s.account_id, envs[0]["envelopeId"], include="custom_fields")
    names = {f.name for f in one.custom_fields.text_custom_fields}
    assert {"row", "BulkBatchId"} <= names

    draft = make_envelope(s, status="created", signers=[signer("1", "Placeholder", "1")])
    lst2 = s.rest(
        "POST",
        "/bulk_send_lists",
        json={
            "name": "from draft",
            "bulkCopies": [
                {"recipients": [{"recipientId": "1", "name": f"D{i}", "email": f"d{i}@example.com"}]}
                for i in range(2)
            ],
        },
    ).json()
    batch2 = s.rest(
        "POST", f"/bulk_send_lists/{lst2['listId']}/send", json={"envelopeOrTemplateId": draft}
    ).json()
    wait_for(lambda: s.rest("GET", f"/bulk_send_batch/{batch2['batchId']}").json()["sent"] == "2")


def test_embedded_signing_page_flow(emu: Emu, session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    env_id = make_envelope(
        s,
        signers=[signer("1", "Erin Embedded", "1", client_user_id="erin-7"), signer("2", "Remote Rick", "2")],
    )
    request = dict(return_url="http://127.0.0.1:9/back?x=1", authentication_method="none")
    for wrong in (
        {"client_user_id": "nope", "user_name": "Erin Embedded", "email": "erin.embedded@example.com"},
        {"client_user_id": "erin-7", "user_name": "Someone Else", "email": "erin.embedded@example.com"},
        {"client_user_id": None, "user_name": "Remote Rick", "email": "remote.rick@example.com"},
    ):
        with pytest.raises(ApiException) as info:
            api.create_recipient_view(
                s.account_id, env_id, recipient_view_request=RecipientViewRequest(**request, **wrong)
            )
        assert ds_error(info.value)["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"
    view = api.create_recipient_view(
        s.account_id,
        env_id,
        recipient_view_request=RecipientViewRequest(
            **request, client_user_id="erin-7", user_name="Erin Embedded", email="erin.embedded@example.com"
        ),
    )
    page = emu.http.get(view.url)
    assert (
        page.status_code == 200
        and "Please sign the pilot agreement" in page.text
        and "Erin Embedded" in page.text
    )
    assert api.list_recipients(s.account_id, env_id).signers[0].status == "delivered"
    pdf = emu.http.get(view.url + "/document")
    assert pdf.headers["content-type"] == "application/pdf"
    done = emu.http.post(view.url + "/sign")
    assert (
        done.status_code == 303
        and done.headers["location"] == "http://127.0.0.1:9/back?x=1&event=signing_complete"
    )
    assert api.list_recipients(s.account_id, env_id).signers[0].status == "completed"
    reused = emu.http.get(view.url)
    assert reused.status_code == 302 and reused.headers["location"].endswith("event=ttl_expired")

    env2 = make_envelope(s, signers=[signer("1", "Dee Decliner", "1", client_user_id="dee")])
    view2 = api.create_recipient_view(
        s.account_id,
        env2,
        recipient_view_request=RecipientViewRequest(
            **request, client_user_id="dee", user_name="Dee Decliner", email="dee.decliner@example.com"
        ),
    )
    declined = emu.http.post(view2.url + "/decline", data={"reason": "Not my contract"})
    assert declined.headers["location"].endswith("event=decline")
    env = api.get_envelope(s.account_id, env2)
    assert env.status == "declined"
    assert api.list_recipients(s.account_id, env2).signers[0].declined_reason == "Not my contract"


def _verified(listener: Listener, env_id: str, path: str, keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for r in listener.for_envelope(env_id, path):
        for i, key in enumerate(keys, start=1):
            assert r.headers[f"x-docusign-signature-{i}"] == hmac_b64(key, r.body)
        assert f"x-docusign-signature-{len(keys) + 1}" not in r.headers
        out.append(json.loads(r.body))
    return out


def test_connect_account_config_signs_with_every_hmac_key(
    emu: Emu, session: Session, listener: Listener
) -> None:
    s = session
    keys = ["first-key-" + uuid.uuid4().hex, "second-key-" + uuid.uuid4().hex]
    assert (
        emu.control("POST", "/connect/hmac_keys", {"account_id": s.account_id, "keys": keys}).status_code
        == 200
    )
    bad = emu.control("POST", "/connect/hmac_keys", {"account_id": s.account_id, "keys": "nope"})
    assert bad.status_code == 400
    path = "acct-" + uuid.uuid4().hex[:8]
    cfg = s.rest(
        "POST",
        "/connect",
        json={
            "urlToPublishTo": listener.hook(path),
            "includeHMAC": "true",
            "allUsers": "true",
            "envelopeEvents": ["Sent", "Completed"],
            "recipientEvents": ["Completed"],
        },
    )
    assert cfg.status_code == 201
    assert s.rest("POST", "/connect", json={"urlToPublishTo": "ftp://nope"}).status_code == 400
    assert (
        s.rest(
            "POST", "/connect", json={"urlToPublishTo": listener.hook(path), "events": ["envelope-exploded"]}
        ).status_code
        == 400
    )
    env_id = make_envelope(s)
    control_sign(emu, env_id, "1")
    control_sign(emu, env_id, "2")
    events = wait_for(
        lambda: (lambda got: got if len(got) >= 4 else None)(_verified(listener, env_id, path, keys))
    )
    names = sorted(e["event"] for e in events)
    assert names == ["envelope-completed", "envelope-sent", "recipient-completed", "recipient-completed"]
    completed = next(e for e in events if e["event"] == "envelope-completed")
    summary = completed["data"]["envelopeSummary"]
    assert summary["status"] == "completed" and summary["completedDateTime"]
    assert completed["data"]["accountId"] == s.account_id and completed["data"]["userId"] == s.user_id
    assert completed["configurationId"] == int(cfg.json()["connectId"])
    rc = [e for e in events if e["event"] == "recipient-completed"]
    assert sorted(e["data"]["recipientId"] for e in rc) == ["1", "2"]


def test_connect_default_retry_schedule_is_docusigns(emu: Emu) -> None:
    config = emu.control("GET", "/config").json()
    assert config["connect_retry_base_seconds"] == 15.0 and config["connect_max_retries"] == 45
    assert config["connect_retry_cap_seconds"] == 86400.0 and config["connect_retry_window_seconds"] == 7 * 86400.0


def test_connect_retries_after_listener_errors(emu: Emu, session: Session, listener: Listener,
                                               clean_knobs: None) -> None:
    s = session
    emu.control("POST", "/config", {"connect_retry_base_seconds": 0.2})  # DocuSign's schedule, in miniature
    path = "flaky-" + uuid.uuid4().hex[:8]
    listener.fail_next[path] = 2
    env_id = make_envelope(s, event_notification={"url": listener.hook(path), "events": ["envelope-sent"]})
    got = wait_for(lambda: listener.for_envelope(env_id, path))
    assert json.loads(got[0].body)["retryCount"] == 2

    def delivered() -> list[int | None] | None:  # the emulator logs a delivery once the listener has answered it
        log = emu.control("GET", "/connect/deliveries").json()["deliveries"]
        statuses = [d["status"] for d in log if d["envelope_id"] == env_id]
        return statuses if 200 in statuses else None

    assert wait_for(delivered) == [500, 500, 200]


def test_connect_gives_up_after_its_retries(emu: Emu, session: Session, listener: Listener,
                                            clean_knobs: None) -> None:
    emu.control("POST", "/config", {"connect_retry_base_seconds": 0.05, "connect_max_retries": 3})
    path = "down-" + uuid.uuid4().hex[:8]
    listener.fail_next[path] = 100
    env_id = make_envelope(session, event_notification={"url": listener.hook(path), "events": ["envelope-sent"]})

    def abandoned() -> list[dict[str, Any]] | None:
        log = [d for d in emu.control("GET", "/connect/deliveries").json()["deliveries"] if d["envelope_id"] == env_id]
        return log if any(d["abandoned"] for d in log) else None

    log = wait_for(abandoned)  # the first attempt and three retries, the last one marked as given up
    assert [(d["status"], d["retry_count"], d["abandoned"]) for d in log] == [
        (500, 0, False), (500, 1, False), (500, 2, False), (500, 3, True)]
    assert listener.for_envelope(env_id, path) == []


def test_connect_duplicates_and_shuffle_knobs(
    emu: Emu, session: Session, listener: Listener, clean_knobs: None
) -> None:
    s = session
    assert emu.control("POST", "/config", {"connect_duplicate_rate": 2}).status_code == 400
    emu.control("POST", "/config", {"connect_duplicate_rate": 1.0})
    path = "dup-" + uuid.uuid4().hex[:8]
    env_id = make_envelope(s, event_notification={"url": listener.hook(path), "events": ["envelope-sent"]})
    got = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(listener.for_envelope(env_id, path)))
    assert got[0].body == got[1].body

    emu.control(
        "POST",
        "/config",
        {"connect_duplicate_rate": 0.0, "connect_shuffle": True, "connect_shuffle_window": 12},
    )
    path = "shuffle-" + uuid.uuid4().hex[:8]
    many = [signer(str(i), f"Parallel Signer{i}", "1") for i in range(1, 11)]
    env_id = make_envelope(
        s, signers=many, event_notification={"url": listener.hook(path), "events": ["recipient-sent"]}
    )
    got = wait_for(lambda: (lambda r: r if len(r) >= 10 else None)(listener.for_envelope(env_id, path)))
    order = [json.loads(r.body)["data"]["recipientId"] for r in got]
    assert sorted(order, key=int) == [str(i) for i in range(1, 11)]
    assert order != [str(i) for i in range(1, 11)], "shuffle knob did not reorder a window of 10 events"


def test_envelope_created_event_only_when_subscribed(emu: Emu, session: Session, listener: Listener) -> None:
    s = session
    quiet, loud = "quiet-" + uuid.uuid4().hex[:6], "loud-" + uuid.uuid4().hex[:6]
    a = make_envelope(s, status="created", event_notification={"url": listener.hook(quiet)})
    b = make_envelope(
        s, status="created", event_notification={"url": listener.hook(loud), "events": ["envelope-created"]}
    )
    wait_for(lambda: listener.for_envelope(b, loud))
    EnvelopesApi(s.api_client).update(s.account_id, a, envelope={"status": "sent"})
    got = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(listener.for_envelope(a, quiet)))
    assert "envelope-created" not in [json.loads(r.body)["event"] for r in got]


def test_mounted_without_parent_lifespan_still_delivers(listener: Listener, integration: Any) -> None:
    """The product mounts the sub-app; Starlette skips its lifespan, so Connect must start lazily."""
    from fastapi import FastAPI

    from emulator.app import create_emulator_app
    from emulator_helpers import ServerThread, new_session

    parent = FastAPI()
    sub = create_emulator_app()
    parent.mount("/_emulator", sub)
    with ServerThread(parent) as server, httpx.Client(timeout=30) as http:
        mounted = Emu(server.url, sub.state.emulator, http)
        assert not mounted.emulator.dispatcher.running
        mounted.control(
            "POST",
            "/integrations",
            {"integration_key": integration.key, "public_key_pem": integration.public_pem},
        )
        s = new_session(mounted, integration)
        path = "mounted-" + uuid.uuid4().hex[:6]
        env_id = make_envelope(
            s, event_notification={"url": listener.hook(path), "events": ["envelope-sent"]}
        )
        wait_for(lambda: listener.for_envelope(env_id, path))
        assert mounted.emulator.dispatcher.running
        view = EnvelopesApi(s.api_client).create_recipient_view(
            s.account_id,
            make_envelope(s, signers=[signer("1", "Mo Mount", "1", client_user_id="m")]),
            recipient_view_request=RecipientViewRequest(
                return_url="http://127.0.0.1:9/r",
                client_user_id="m",
                user_name="Mo Mount",
                email="mo.mount@example.com",
                authentication_method="none",
            ),
        )
        assert view.url.startswith(f"{server.url}/_emulator/signing/")
        voided = s.rest("PUT", f"/envelopes/{env_id}", json={"status": "voided", "voidedReason": "done"})
        assert voided.status_code == 200
        resend = s.rest("PUT", f"/envelopes/{env_id}", json={"status": "sent"})
        assert resend.status_code == 400 and resend.json()["errorCode"] == "ENVELOPE_INVALID_STATUS"
