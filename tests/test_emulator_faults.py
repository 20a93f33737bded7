"""Rate limits, injected faults and snapshots."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from docusign_esign import EnvelopesApi
from docusign_esign.client.api_exception import ApiException

pytest.register_assert_rewrite("emulator_helpers")
from emulator_helpers import Emu, Integration, ServerThread, Session, new_session, pdf_base64, wait_for

from emulator.standalone import build_standalone_app




def envelope_body(tag: str) -> dict[str, object]:
    return {
        "status": "sent",
        "emailSubject": "Fault test",
        "documents": [{"documentId": "1", "name": "a.pdf", "documentBase64": pdf_base64("Body")}],
        "recipients": {"signers": [{"recipientId": "1", "name": "F Signer", "email": "f@example.com"}]},
        "customFields": {"textCustomFields": [{"name": "request_id", "value": tag}]},
    }


def count_tagged(s: Session, tag: str) -> int:
    resp = s.rest(
        "GET", "/envelopes", params={"from_date": "2020-01-01", "custom_field": f"request_id={tag}"}
    )
    return int(resp.json()["totalSetSize"])


def test_rate_limit_headers_decrease(session: Session) -> None:
    first = session.rest("GET", "/templates")
    second = session.rest("GET", "/templates")
    for resp in (first, second):
        assert resp.headers["X-RateLimit-Limit"] == "3000" and resp.headers["X-BurstLimit-Limit"] == "500"
        assert int(resp.headers["X-RateLimit-Reset"]) > time.time()
        assert resp.headers["X-DocuSign-TraceToken"]
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert int(second.headers["X-BurstLimit-Remaining"]) == int(first.headers["X-BurstLimit-Remaining"]) - 1
    assert first.headers["X-DocuSign-TraceToken"] != second.headers["X-DocuSign-TraceToken"]


def test_hourly_and_burst_limits(emu: Emu, session: Session, clean_knobs: None) -> None:
    s = session
    emu.control("POST", "/config", {"rate_limit_per_hour": 3})
    assert [s.rest("GET", "/templates").status_code for _ in range(3)] == [200, 200, 200]
    tag = str(uuid.uuid4())
    over = s.rest("POST", "/envelopes", json=envelope_body(tag))
    assert over.status_code == 400 and over.json()["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    assert over.headers["X-RateLimit-Remaining"] == "0"
    assert not any(
        e.email_subject == "Fault test" and any(f.get("value") == tag for f in e.text_custom_fields)
        for e in emu.emulator.state.envelopes.values()
    )

    emu.control("POST", "/config", {"answer_429": True})
    emu.control("POST", "/config", {"rate_limit_per_hour": 1})
    s.rest("GET", "/templates")
    too_many = s.rest("GET", "/templates")
    assert (
        too_many.status_code == 429 and too_many.json()["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    )

    emu.control(
        "POST", "/config", {"rate_limit_per_hour": 3000, "burst_limit_per_30s": 2, "answer_429": False}
    )
    codes = [s.rest("GET", "/templates") for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 400]
    assert codes[2].json()["errorCode"] == "BURST_APIINVOCATION_LIMIT_EXCEEDED"
    assert codes[1].headers["X-BurstLimit-Remaining"] == "0"


def test_fault_injection_500_429_limit_timeout_and_latency(
    emu: Emu, session: Session, clean_knobs: None
) -> None:
    s = session
    for bad in (
        {"route": "(", "kind": "500"},
        {"route": "x", "kind": "explode"},
        {"route": "x", "kind": "500", "rate": 2},
    ):
        resp = emu.control("POST", "/faults", bad)
        assert resp.status_code == 400 and resp.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"
    assert emu.control("GET", "/faults").json()["faults"] == []

    assert (
        emu.control("POST", "/faults", {"route": "GET /templates$", "kind": "500", "count": 1}).status_code
        == 201
    )
    failed = s.rest("GET", "/templates")
    assert failed.status_code == 500 and failed.json()["errorCode"] == "UNSPECIFIED_ERROR"
    assert failed.headers["X-DocuSign-TraceToken"]
    assert s.rest("GET", "/templates").status_code == 200
    emu.control("POST", "/faults", {"route": "GET /envelopes$", "kind": "500", "count": 1})
    assert (
        s.rest("POST", "/envelopes", json=envelope_body(str(uuid.uuid4()))).status_code == 201
    )  # method filter
    assert s.rest("GET", "/envelopes", params={"from_date": "2020-01-01"}).status_code == 500
    assert s.rest("GET", "/envelopes", params={"from_date": "2020-01-01"}).status_code == 200

    emu.control("POST", "/faults", {"route": "/templates$", "kind": "429", "count": 1})
    assert s.rest("GET", "/templates").status_code == 429
    emu.control("POST", "/faults", {"route": "/templates$", "kind": "limit", "count": 1})
    limited = s.rest("GET", "/templates")
    assert limited.status_code == 400 and limited.json()["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    emu.control("POST", "/faults", {"route": "/templates$", "kind": "timeout", "latency_ms": 200, "count": 1})
    assert s.rest("GET", "/templates").status_code == 504
    emu.control("POST", "/faults", {"route": "/templates$", "kind": "latency", "latency_ms": 300, "count": 1})
    started = time.monotonic()
    slow = s.rest("GET", "/templates")
    assert slow.status_code == 200 and time.monotonic() - started >= 0.3
    emu.control("POST", "/faults", {"route": "/templates$", "kind": "500", "rate": 0.0})
    assert s.rest("GET", "/templates").status_code == 200
    assert emu.control("GET", "/faults").json()["faults"][0]["fired"] == 0
    assert emu.control("DELETE", "/faults").json()["removed"] == 1

    emu.control("POST", "/faults", {"route": ".*", "kind": "500"})
    assert emu.control("GET", "/config").status_code == 200  # control endpoints are never faulted
    emu.control("DELETE", "/faults")


def test_fault_after_the_operation_is_an_uncertain_failure(
    emu: Emu, session: Session, clean_knobs: None
) -> None:
    s = session
    tag = str(uuid.uuid4())
    emu.control("POST", "/faults", {"route": "POST /envelopes$", "kind": "500", "after": True, "count": 1})
    resp = s.rest("POST", "/envelopes", json=envelope_body(tag))
    assert resp.status_code == 500
    assert count_tagged(s, tag) == 1  # applied, though the caller saw a failure

    tag2 = str(uuid.uuid4())
    emu.control("POST", "/faults", {"route": "POST /envelopes$", "kind": "500", "count": 1})
    try:
        EnvelopesApi(s.api_client).create_envelope(s.account_id, envelope_definition=envelope_body(tag2))
        raise AssertionError("the injected fault should have failed the call")
    except ApiException as exc:
        assert exc.status == 500 and json.loads(exc.body)["errorCode"] == "UNSPECIFIED_ERROR"
    assert count_tagged(s, tag2) == 0  # a fault before the operation changes nothing


def test_snapshot_round_trip(tmp_path: Path, integration: Integration) -> None:
    path = tmp_path / "snap" / "emulator.json"
    app = build_standalone_app(snapshot_path=path)
    with ServerThread(app) as server, httpx.Client(timeout=30) as http:
        emu = Emu(server.url, app.state.emulator, http)
        assert (
            emu.control(
                "POST",
                "/integrations",
                {"integration_key": integration.key, "public_key_pem": integration.public_pem},
            ).status_code
            == 201
        )
        s = new_session(emu, integration, name="Snap Shot")
        env_id = s.rest("POST", "/envelopes", json=envelope_body("snap")).json()["envelopeId"]
        emu.control("POST", f"/envelopes/{env_id}/sign", {"recipient_id": "1"})
        wait_for(lambda: path.exists())  # debounced write on change
        saved = emu.control("POST", "/snapshot")
        assert saved.status_code == 200 and saved.json()["path"] == str(path)
        token, account_id = s.token, s.account_id
    data = json.loads(path.read_text())
    assert data["envelopes"][env_id]["status"] == "completed"

    app2 = build_standalone_app(snapshot_path=path)
    with ServerThread(app2) as server2, httpx.Client(timeout=30) as http2:
        resp = http2.get(
            f"{server2.url}/_emulator/restapi/v2.1/accounts/{account_id}/envelopes/{env_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200 and resp.json()["status"] == "completed"
        pdf = http2.get(
            f"{server2.url}/_emulator/restapi/v2.1/accounts/{account_id}/envelopes/{env_id}/documents/combined",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert pdf.content.startswith(b"%PDF")

    no_path = build_standalone_app()
    with ServerThread(no_path) as server3, httpx.Client(timeout=30) as http3:
        resp = http3.post(f"{server3.url}/_emulator/snapshot")
        assert resp.status_code == 400 and resp.json()["errorCode"] == "SNAPSHOT_NOT_CONFIGURED"
