"""The emulator's bodies against DocuSign's published contract: every route validates against the swagger
definition it names, and the official SDK deserializes it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from docusign_esign import (
    BulkEnvelopesApi,
    BulkSendingCopy,
    BulkSendingCopyRecipient,
    BulkSendingList,
    BulkSendRequest,
    CarbonCopy,
    ConnectApi,
    ConnectCustomConfiguration,
    CustomFields,
    Document,
    EnvelopeDefinition,
    EnvelopesApi,
    Recipients,
    RecipientViewRequest,
    Signer,
    SignHere,
    Tabs,
    TemplatesApi,
    TextCustomField,
)
from docusign_esign.client.api_exception import ApiException
from docusign_esign.client.auth.oauth import OAuthToken, OAuthUserInfo

pytest.register_assert_rewrite("emulator_helpers")
from emulator_helpers import Emu, Session, pdf_base64, wait_for
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_DIR = Path(os.environ.get("DOCUSIGN_SPEC_DIR", Path(__file__).parent / "specs" / "docusign"))
SPEC_FILE = SPEC_DIR / "esignature.rest.swagger-v2.1.json"
SAMPLE_FILE = SPEC_DIR / "connect-json-sim-sample.json"

SPEC_URI = "urn:docusign:esignature-v2.1"
SPEC: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT4))
# Fields DocuSign answers that the 2022 swagger copy does not declare.
UNDECLARED_OK = {"envelopesInformation": {"nextUri", "previousUri"}}




def _definition(name: str) -> dict[str, Any]:
    return SPEC["definitions"][name]


def _unknown_keys(body: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Keys the definition does not declare: catches misspelt camelCase names that plain validation allows."""
    if "$ref" in schema:
        schema = _definition(schema["$ref"].rsplit("/", 1)[-1])
    problems: list[str] = []
    if isinstance(body, dict) and "properties" in schema:
        props = schema["properties"]
        for key, value in body.items():
            if key not in props:
                problems.append(f"{where}.{key}")
            else:
                problems += _unknown_keys(value, props[key], f"{where}.{key}")
    elif isinstance(body, list) and "items" in schema:
        for i, item in enumerate(body):
            problems += _unknown_keys(item, schema["items"], f"{where}[{i}]")
    return problems


def validate(body: Any, definition: str) -> None:
    """Validate against `#/definitions/<definition>`, resolving refs inside DocuSign's own file."""
    assert definition in SPEC["definitions"], definition
    validator = Draft4Validator({"$ref": f"{SPEC_URI}#/definitions/{definition}"}, registry=REGISTRY)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    unknown = [
        k
        for k in _unknown_keys(body, _definition(definition), definition)
        if k.split(".", 1)[-1] not in UNDECLARED_OK.get(definition, set())
    ]
    assert not unknown, f"keys not in the {definition} definition: {unknown}"


def test_validator_rejects_wrong_types_and_unknown_keys() -> None:
    with pytest.raises(AssertionError):
        validate({"envelopeId": 12}, "envelopeSummary")
    with pytest.raises(AssertionError):
        validate({"envelopeID": "x"}, "envelopeSummary")
    validate({"envelopeId": "x", "status": "sent"}, "envelopeSummary")


def _definition_for_sdk(s: Session, **overrides: Any) -> EnvelopeDefinition:
    fields: dict[str, Any] = dict(
        email_subject="Contract check",
        status="sent",
        documents=[
            Document(document_id="1", name="Agreement.pdf", document_base64=pdf_base64("Terms apply."))
        ],
        recipients=Recipients(
            signers=[
                Signer(
                    recipient_id="1",
                    name="Ada Signer",
                    email="ada@example.com",
                    routing_order="1",
                    client_user_id="ada-1",
                    tabs=Tabs(
                        sign_here_tabs=[
                            SignHere(anchor_string="/sig1/", anchor_units="pixels", anchor_x_offset="20")
                        ]
                    ),
                )
            ],
            carbon_copies=[
                CarbonCopy(recipient_id="2", name="Cy Copy", email="cy@example.com", routing_order="2")
            ],
        ),
        custom_fields=CustomFields(
            text_custom_fields=[TextCustomField(name="request_id", value=str(uuid.uuid4()))]
        ),
    )
    fields.update(overrides)
    return EnvelopeDefinition(**fields)


def test_envelope_routes_match_contract_and_sdk(session: Session) -> None:
    s = session
    api = EnvelopesApi(s.api_client)
    created = api.create_envelope(s.account_id, envelope_definition=_definition_for_sdk(s))
    assert created.status == "sent" and created.envelope_id
    env_id = created.envelope_id

    raw = s.rest("POST", "/envelopes", json=s.api_client.sanitize_for_serialization(_definition_for_sdk(s)))
    assert raw.status_code == 201
    validate(raw.json(), "envelopeSummary")

    got = s.rest("GET", f"/envelopes/{env_id}", params={"include": "recipients,custom_fields,documents"})
    validate(got.json(), "envelope")
    sdk_env = api.get_envelope(s.account_id, env_id, include="recipients,custom_fields")
    assert sdk_env.recipients.signers[0].name == "Ada Signer"
    assert sdk_env.custom_fields.text_custom_fields[0].name == "request_id"

    listing = s.rest(
        "GET", "/envelopes", params={"from_date": "2020-01-01", "include": "recipients,custom_fields"}
    )
    validate(listing.json(), "envelopesInformation")
    info = api.list_status_changes(s.account_id, from_date="2020-01-01", include="recipients")
    assert int(info.total_set_size) >= 2 and info.envelopes[0].recipients is not None

    recips = s.rest("GET", f"/envelopes/{env_id}/recipients")
    validate(recips.json(), "recipients")
    assert api.list_recipients(s.account_id, env_id).carbon_copies[0].email == "cy@example.com"

    upd = s.rest(
        "PUT",
        f"/envelopes/{env_id}/recipients",
        json={"signers": [{"recipientId": "1", "name": "Ada B. Signer"}]},
    )
    validate(upd.json(), "recipientsUpdateSummary")
    summary = api.update_recipients(
        s.account_id, env_id, recipients=Recipients(signers=[Signer(recipient_id="1", name="Ada Signer")])
    )
    assert summary.recipient_update_results[0].recipient_id == "1"

    view = s.rest(
        "POST",
        f"/envelopes/{env_id}/views/recipient",
        json={
            "returnUrl": "http://127.0.0.1:9/done",
            "authenticationMethod": "none",
            "clientUserId": "ada-1",
            "userName": "Ada Signer",
            "email": "ada@example.com",
        },
    )
    assert view.status_code == 201
    validate(view.json(), "viewUrl")
    sdk_view = api.create_recipient_view(
        s.account_id,
        env_id,
        recipient_view_request=RecipientViewRequest(
            return_url="http://127.0.0.1:9/done",
            authentication_method="none",
            client_user_id="ada-1",
            user_name="Ada Signer",
            email="ada@example.com",
        ),
    )
    assert sdk_view.url.startswith(s.emu.root + "/signing/")

    docs = s.rest("GET", f"/envelopes/{env_id}/documents")
    validate(docs.json(), "envelopeDocumentsResult")
    assert [d.document_id for d in api.list_documents(s.account_id, env_id).envelope_documents] == [
        "1",
        "certificate",
    ]

    audit = s.rest("GET", f"/envelopes/{env_id}/audit_events")
    validate(audit.json(), "envelopeAuditEventResponse")
    events = api.list_audit_events(s.account_id, env_id).audit_events
    assert any(f.name == "Action" and f.value == "Sent Invitations" for e in events for f in e.event_fields)

    void = s.rest("PUT", f"/envelopes/{env_id}", json={"status": "voided", "voidedReason": "contract test"})
    validate(void.json(), "envelopeUpdateSummary")
    assert api.get_envelope(s.account_id, env_id).status == "voided"


def test_template_routes_match_contract_and_sdk(session: Session) -> None:
    s = session
    listing = s.rest("GET", "/templates", params={"include": "recipients"})
    validate(listing.json(), "envelopeTemplateResults")
    api = TemplatesApi(s.api_client)
    found = api.list_templates(s.account_id, search_text="offer")
    assert [t.name for t in found.envelope_templates] == ["Offer Letter"]
    tpl_id = found.envelope_templates[0].template_id
    one = s.rest("GET", f"/templates/{tpl_id}")
    validate(one.json(), "envelopeTemplate")
    tpl = api.get(s.account_id, tpl_id)
    assert {sg.role_name for sg in tpl.recipients.signers} == {"Employee", "Hiring Manager"}


def test_bulk_routes_match_contract_and_sdk(session: Session) -> None:
    s = session
    api = BulkEnvelopesApi(s.api_client)
    tpl_id = (
        TemplatesApi(s.api_client)
        .list_templates(s.account_id, search_text="Mutual NDA")
        .envelope_templates[0]
        .template_id
    )
    body = {
        "name": "contract list",
        "bulkCopies": [
            {
                "recipients": [
                    {"roleName": "Party A", "name": "P One", "email": "p1@example.com"},
                    {"roleName": "Party B", "name": "Q One", "email": "q1@example.com"},
                ],
                "customFields": [{"name": "row", "value": "1"}],
            }
        ],
    }
    raw = s.rest("POST", "/bulk_send_lists", json=body)
    assert raw.status_code == 201
    validate(raw.json(), "bulkSendingList")
    lst = api.create_bulk_send_list(
        s.account_id,
        bulk_sending_list=BulkSendingList(
            name="sdk list",
            bulk_copies=[
                BulkSendingCopy(
                    recipients=[
                        BulkSendingCopyRecipient(role_name="Party A", name="R", email="r@example.com"),
                        BulkSendingCopyRecipient(role_name="Party B", name="S", email="s@example.com"),
                    ]
                )
            ],
        ),
    )
    assert api.get_bulk_send_list(s.account_id, lst.list_id).name == "sdk list"
    validate(s.rest("GET", f"/bulk_send_lists/{lst.list_id}").json(), "bulkSendingList")

    sent = s.rest(
        "POST", f"/bulk_send_lists/{raw.json()['listId']}/send", json={"envelopeOrTemplateId": tpl_id}
    )
    assert sent.status_code == 201
    validate(sent.json(), "bulkSendResponse")
    resp = api.create_bulk_send_request(
        s.account_id,
        lst.list_id,
        bulk_send_request=BulkSendRequest(envelope_or_template_id=tpl_id, batch_name="b"),
    )
    assert resp.batch_id and resp.batch_size == "1"
    wait_for(lambda: api.get_bulk_send_batch_status(s.account_id, resp.batch_id).queued == "0")
    status = s.rest("GET", f"/bulk_send_batch/{resp.batch_id}")
    validate(status.json(), "bulkSendBatchStatus")
    validate(s.rest("GET", f"/bulk_send_batch/{resp.batch_id}/envelopes").json(), "envelopesInformation")
    assert api.get_bulk_send_batch_status(s.account_id, resp.batch_id).sent == "1"
    listed = s.rest("GET", "/bulk_send_batch", params={"search_text": "b", "status": "all"})
    validate(listed.json(), "bulkSendBatchSummaries")
    summaries = api.get_bulk_send_batches(s.account_id, batch_ids=resp.batch_id).bulk_batch_summaries
    assert [(b.batch_id, b.batch_name, b.sent) for b in summaries] == [(resp.batch_id, "b", "1")]
    bad = s.rest("GET", "/bulk_send_batch", params={"status": "everything"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"


def test_connect_routes_match_contract_and_sdk(session: Session) -> None:
    s = session
    raw = s.rest(
        "POST",
        "/connect",
        json={
            "urlToPublishTo": "http://127.0.0.1:9/hook",
            "name": "raw",
            "events": ["envelope-sent"],
            "includeHMAC": "true",
            "allUsers": "true",
            "eventData": {
                "version": "restv2.1",
                "format": "json",
                "includeData": ["recipients", "custom_fields"],
            },
        },
    )
    assert raw.status_code == 201
    validate(raw.json(), "connectCustomConfiguration")
    api = ConnectApi(s.api_client)
    cfg = api.create_configuration(
        s.account_id,
        connect_custom_configuration=ConnectCustomConfiguration(
            url_to_publish_to="http://127.0.0.1:9/other",
            name="sdk",
            envelope_events=["Completed"],
            all_users="true",
        ),
    )
    assert cfg.connect_id
    updated = api.update_configuration(
        s.account_id,
        connect_custom_configuration=ConnectCustomConfiguration(
            connect_id=cfg.connect_id, name="sdk renamed"
        ),
    )
    assert updated.name == "sdk renamed" and updated.url_to_publish_to == "http://127.0.0.1:9/other"
    validate(s.rest("GET", "/connect").json(), "connectConfigResults")
    validate(s.rest("GET", f"/connect/{cfg.connect_id}").json(), "connectConfigResults")
    assert api.list_configurations(s.account_id).total_records == "2"
    assert api.get_configuration(s.account_id, cfg.connect_id).configurations[0].name == "sdk renamed"
    api.delete_configuration(s.account_id, cfg.connect_id)
    assert api.list_configurations(s.account_id).total_records == "1"


def test_errors_match_contract(session: Session) -> None:
    s = session
    missing = s.rest("GET", f"/envelopes/{uuid.uuid4()}")
    assert missing.status_code == 400
    validate(missing.json(), "errorDetails")
    assert missing.json()["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"
    assert missing.headers["X-DocuSign-TraceToken"]
    with pytest.raises(ApiException) as info:
        EnvelopesApi(s.api_client).list_status_changes(s.account_id)
    body = json.loads(info.value.body)
    validate(body, "errorDetails")
    assert body["errorCode"] == "INVALID_REQUEST_PARAMETER" and "from_date" in body["message"]
    unauth = s.emu.http.get(f"{s.emu.rest_host}/v2.1/accounts/{s.account_id}/envelopes?from_date=2020-01-01")
    assert unauth.status_code == 401
    validate(unauth.json(), "errorDetails")


def test_connect_event_matches_sample_and_envelope_definition(session: Session, listener: Any) -> None:
    s = session
    EnvelopesApi(s.api_client)  # the event is produced by an SDK-created envelope below
    definition = _definition_for_sdk(s)
    definition.event_notification = {"url": listener.hook("contract"), "events": ["envelope-sent"]}
    created = EnvelopesApi(s.api_client).create_envelope(s.account_id, envelope_definition=definition)
    received = wait_for(lambda: listener.for_envelope(created.envelope_id, "contract"))
    event = json.loads(received[0].body)
    sample = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
    assert set(event) == set(sample)
    assert set(event["data"]) == set(sample["data"])
    assert event["event"] == "envelope-sent" and event["apiVersion"] == "v2.1"
    assert isinstance(event["retryCount"], int) and isinstance(event["configurationId"], int)
    summary = event["data"]["envelopeSummary"]
    assert set(summary) <= set(sample["data"]["envelopeSummary"])
    validate(summary, "envelope")
    assert summary["customFields"]["textCustomFields"][0]["name"] == "request_id"
    assert summary["recipients"]["signers"][0]["status"] == "sent"


def test_oauth_bodies_deserialize_with_sdk_models(emu: Emu, integration: Any, session: Session) -> None:
    from docusign_esign import ApiClient

    client = ApiClient()
    info = emu.http.get(f"{emu.root}/oauth/userinfo", headers={"Authorization": f"Bearer {session.token}"})
    user = client.deserialize(SimpleNamespace(data=info.content), OAuthUserInfo)
    assert user.sub == session.user_id and user.accounts[0].base_uri == emu.root
    from emulator_helpers import jwt_token

    tok = client.deserialize(
        SimpleNamespace(data=jwt_token(emu, integration, session.user_id).content), OAuthToken
    )
    assert tok.access_token and tok.token_type == "Bearer" and int(tok.expires_in) > 0
