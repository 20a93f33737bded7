"""Every tool reached from a natural request, through the compiled graph, the offline model (over ChatOpenAI)
and the emulator (over the real SDK)."""

from __future__ import annotations

import json

import httpx
from agent_helpers import CONTRACT_LINES, Chat, interrupts, last_text, tool_results


APPROVE = {"type": "approve"}


def emulator_envelope(chat: Chat, envelope_id: str) -> dict:
    response = httpx.get(f"{chat.emulator.url}/_emulator/envelopes/{envelope_id}")
    response.raise_for_status()
    return response.json()


def sign(chat: Chat, envelope_id: str, recipient_id: str) -> None:
    httpx.post(f"{chat.emulator.url}/_emulator/envelopes/{envelope_id}/sign",
               json={"recipient_id": recipient_id}).raise_for_status()


async def send_contract(chat: Chat, extra: str = "") -> str:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say(f"send contract.pdf to Bob Smith bob@example.com{extra}")
    [request] = interrupts(state)
    assert request["action_requests"][0]["name"] == "send_document"
    assert request["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    state = await chat.resume(APPROVE)
    name, payload = tool_results(state)[-1]
    assert name == "send_document" and "error" not in payload, payload
    return payload["envelope_id"]


async def test_read_tools(chat: Chat) -> None:
    state = await chat.say("what templates do I have")
    name, payload = tool_results(state)[-1]
    assert name == "list_templates" and {"Mutual NDA", "Offer Letter", "Services Agreement"} <= {
        t["name"] for t in payload["templates"]}
    assert "Mutual NDA" in last_text(state)

    state = await chat.say("show the NDA template")
    name, payload = tool_results(state)[-1]
    assert name == "get_template" and payload["template"]["name"] == "Mutual NDA"
    assert len(payload["template"]["roles"]) >= 2

    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say("what have I uploaded")
    name, payload = tool_results(state)[-1]
    assert name == "list_my_documents" and [d["filename"] for d in payload["documents"]] == ["contract.pdf"]


async def test_send_track_and_manage_an_envelope(chat: Chat) -> None:
    envelope_id = await send_contract(chat)
    truth = emulator_envelope(chat, envelope_id)
    assert truth["status"] == "sent" and truth["recipients"][0]["email"] == "bob@example.com"

    state = await chat.say("list my envelopes")
    name, payload = tool_results(state)[-1]
    assert name == "list_envelopes" and envelope_id in [e["envelopeId"] for e in payload["envelopes"]]

    state = await chat.say(f"status of envelope {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "get_envelope_status" and payload["holding_up"][0]["email"] == "bob@example.com"
    assert "Bob Smith" in last_text(state)

    state = await chat.say(f"what documents are in {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "list_envelope_documents" and payload["documents"]

    state = await chat.say(f"audit trail for {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "get_audit_events" and payload["events"]

    state = await chat.say(f"remind the signers of {envelope_id}")
    assert interrupts(state)[0]["action_requests"][0]["name"] == "remind_recipients"
    state = await chat.resume(APPROVE)
    name, payload = tool_results(state)[-1]
    assert name == "remind_recipients" and "error" not in payload

    state = await chat.say(f"correct bob@example.com to robert@example.com on {envelope_id}")
    assert interrupts(state)[0]["action_requests"][0]["name"] == "correct_recipient"
    state = await chat.resume(APPROVE)
    assert tool_results(state)[-1][0] == "correct_recipient"
    assert emulator_envelope(chat, envelope_id)["recipients"][0]["email"] == "robert@example.com"

    sign(chat, envelope_id, "1")
    state = await chat.say(f"download the signed pdf of {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "download_document" and payload["pages"] >= 1 and payload["url"].startswith("/v1/documents/")
    state = await chat.say(f"download the certificate of {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "download_document" and payload["filename"].endswith("-certificate.pdf")


async def test_template_draft_then_send_draft(chat: Chat) -> None:
    state = await chat.say("send the Offer Letter template to Jane Doe (jane@acme.com) as a draft")
    assert not interrupts(state)  # drafts change nothing anybody sees: no approval
    name, payload = tool_results(state)[-1]
    assert name == "send_template" and payload["status"] == "created"
    envelope_id = payload["envelope_id"]
    assert emulator_envelope(chat, envelope_id)["status"] == "created"

    state = await chat.say(f"send draft {envelope_id}")
    assert interrupts(state)[0]["action_requests"][0]["name"] == "send_draft"
    await chat.resume(APPROVE)
    assert emulator_envelope(chat, envelope_id)["status"] == "sent"


async def test_template_with_cc_uses_composite_template(chat: Chat) -> None:
    state = await chat.say("send the NDA template to bob@example.com and cc alice@example.com")
    [request] = interrupts(state)
    assert request["action_requests"][0]["args"]["cc"] == [{"name": "Alice", "email": "alice@example.com"}]
    state = await chat.resume(APPROVE)
    payload = tool_results(state)[-1][1]
    truth = emulator_envelope(chat, payload["envelope_id"])
    kinds = {(r["email"], r["kind"]) for r in truth["recipients"]}
    assert ("bob@example.com", "signer") in kinds and ("alice@example.com", "carbonCopy") in kinds


async def test_embedded_signing_link(chat: Chat) -> None:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say("send contract.pdf to Bob Smith bob@example.com to sign in the app")
    assert interrupts(state)[0]["action_requests"][0]["args"]["signers"][0]["embedded"] is True
    state = await chat.resume(APPROVE)
    envelope_id = tool_results(state)[-1][1]["envelope_id"]
    state = await chat.say(f"signing link for bob@example.com on {envelope_id}")
    name, payload = tool_results(state)[-1]
    assert name == "create_signing_link" and payload["url"].startswith(chat.emulator.url)
    page = httpx.get(payload["url"])
    assert page.status_code == 200 and "Sign" in page.text


async def test_bulk_send_and_status(chat: Chat) -> None:
    state = await chat.say("bulk send the Offer Letter template to: ann@example.com, bo@example.com")
    assert interrupts(state)[0]["action_requests"][0]["name"] == "bulk_send"
    state = await chat.resume(APPROVE)
    name, payload = tool_results(state)[-1]
    assert name == "bulk_send" and payload["total"] == 2, payload
    batch_id = payload["batch_id"]
    state = await chat.say(f"how is batch {batch_id} doing?")
    name, payload = tool_results(state)[-1]
    assert name == "get_bulk_send_status" and payload["counters"]["total"] == 2


async def test_analysis_tools(chat: Chat) -> None:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say("summarize contract.pdf")
    name, payload = tool_results(state)[-1]
    assert name == "analyze_document" and "Acme Corp" in payload["analysis"]["summary"]
    state = await chat.say("key terms in contract.pdf")
    terms = tool_results(state)[-1][1]["analysis"]
    assert "$12,000" in terms["amounts"] and "March 1, 2026" in terms["dates"]
    assert "renew" in terms["renewal"] and "Delaware" in terms["governing_law"]
    state = await chat.say("risks in contract.pdf")
    risks = tool_results(state)[-1][1]["analysis"]["risks"]
    assert any("automatic" in r["clause"].lower() for r in risks)
    state = await chat.say("what does contract.pdf say about termination?")
    name, payload = tool_results(state)[-1]
    assert name == "ask_document" and "terminate" in payload["analysis"]["answer"]


async def test_a_bulk_send_whose_outcome_is_unknown_is_not_recorded_as_failed(chat: Chat) -> None:
    """DocuSign answered 500 after queuing the batch and the check failed too: it may be mailing everyone, so
    the operation stays `sending` with the uncertainty recorded, and the person is told not to send again."""
    from sqlalchemy import select

    from db.models import BulkOperation
    from tools.base import execute
    from tools.registry import BY_NAME

    faults = f"{chat.emulator.url}/_emulator/faults"
    async with httpx.AsyncClient(timeout=30) as http:
        for fault in ({"route": "POST /restapi/.*/bulk_send_lists/[^/]+/send$", "kind": "500", "after": True,
                       "count": 1},
                      {"route": "GET /restapi/.*/bulk_send_batch", "kind": "500"}):
            assert (await http.post(faults, json=fault)).status_code < 300
        try:
            payload = await execute(BY_NAME["bulk_send"], {
                "template": "Offer Letter", "batch_name": "uncertain offers",
                "rows": [{"name": "Cy Candidate", "email": "cy@example.com"}]}, chat.tool_context("call_bulk"))
        finally:
            await http.delete(faults)
    assert payload["error"] == "BULK_SEND_UNCERTAIN" and "may be sending" in payload["message"], payload
    async with chat.database.user_session(chat.user_id) as session:
        op = (await session.execute(select(BulkOperation).where(BulkOperation.batch_name == "uncertain offers"))
              ).scalar_one()
    assert op.status == "sending" and op.error.startswith("outcome unknown") and op.bulk_list_id


async def test_a_template_name_with_a_typo_is_sent_as_the_template_it_is_close_to(chat: Chat) -> None:
    state = await chat.say("send the mutal nda to kai.lund@example.com")
    [card] = interrupts(state)
    assert "Mutual NDA" in json.dumps(card), card  # the person approves the real template's name
