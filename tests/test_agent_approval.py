"""The approval gate: approve, edit and reject for every irreversible tool; nothing skips it; audit rows."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from agent_helpers import CONTRACT_LINES, INJECTION_LINES, Chat, interrupts, last_text, tool_results
from langchain_core.messages import AIMessage
from sqlalchemy import select

from db.models import AuditLog


APPROVE = {"type": "approve"}


def truth(chat: Chat, envelope_id: str) -> dict:
    return httpx.get(f"{chat.emulator.url}/_emulator/envelopes/{envelope_id}").raise_for_status().json()


async def sent_envelope(chat: Chat) -> str:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    await chat.say("send contract.pdf to Bob Smith bob@example.com")
    state = await chat.resume(APPROVE)
    return tool_results(state)[-1][1]["envelope_id"]


async def audit_rows(chat: Chat) -> list[AuditLog]:
    async with chat.database.user_session(chat.user_id) as session:
        return list((await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all())


async def test_reject_send_changes_nothing(chat: Chat) -> None:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say("send contract.pdf to Bob Smith bob@example.com")
    assert interrupts(state)
    state = await chat.resume({"type": "reject", "message": "wrong document"})
    name, payload = tool_results(state)[-1]
    assert name == "send_document" and payload["error"] == "rejected" and "wrong document" in payload["message"]
    assert "Nothing was done" in last_text(state)
    state = await chat.say("list my envelopes")
    assert tool_results(state)[-1][1]["envelopes"] == []  # DocuSign was never called to create one
    rows = await audit_rows(chat)
    assert [(r.operation, r.status, r.actor) for r in rows if r.operation == "send_document"] == [
        ("send_document", "rejected", "user")]


async def test_edit_send_uses_edited_arguments(chat: Chat) -> None:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    state = await chat.say("send contract.pdf to Bob Smith bob@example.com")
    args = interrupts(state)[0]["action_requests"][0]["args"]
    edited = {**args, "signers": [{"name": "Carol Jones", "email": "carol@example.com"}], "email_subject": "Edited"}
    state = await chat.resume({"type": "edit", "edited_action": {"name": "send_document", "args": edited}})
    payload = tool_results(state)[-1][1]
    env = truth(chat, payload["envelope_id"])
    assert env["recipients"][0]["email"] == "carol@example.com" and env["email_subject"] == "Edited"


@pytest.mark.parametrize(("edit", "expected"), [
    ({"name": "send_document", "args": {"document": "contract.pdf", "signers": [{"name": "X", "email": "not-an-email"}]}},
     "signers.0.email"),
    ({"name": "void_envelope", "args": {"envelope_id": "x", "reason": "r"}}, "not allowed"),
    (None, "no edited_action"),
])
async def test_invalid_edit_is_refused_and_changes_nothing(chat: Chat, edit: dict | None, expected: str) -> None:
    await chat.upload("contract.pdf", CONTRACT_LINES)
    await chat.say("send contract.pdf to Bob Smith bob@example.com")
    decision = {"type": "edit"} | ({"edited_action": edit} if edit else {})
    state = await chat.resume(decision)
    payload = tool_results(state)[-1][1]
    assert payload["error"] == "invalid_edit" and expected in payload["message"]
    state = await chat.say("list my envelopes")
    assert tool_results(state)[-1][1]["envelopes"] == []


async def test_void_approve_reject_edit(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    state = await chat.say(f"void {envelope_id} because the terms changed")
    request = interrupts(state)[0]["action_requests"][0]
    assert request["name"] == "void_envelope" and request["args"]["reason"] == "The terms changed"
    await chat.resume({"type": "reject", "message": "keep it"})
    assert truth(chat, envelope_id)["status"] == "sent"

    await chat.say(f"void {envelope_id} because the terms changed")
    edited = {"envelope_id": envelope_id, "reason": "Replaced by v2"}
    state = await chat.resume({"type": "edit", "edited_action": {"name": "void_envelope", "args": edited}})
    env = truth(chat, envelope_id)
    assert env["status"] == "voided" and env["voided_reason"] == "Replaced by v2"
    assert "voided" in last_text(state)


async def test_docusign_error_becomes_a_sentence(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    httpx.post(f"{chat.emulator.url}/_emulator/envelopes/{envelope_id}/sign", json={"recipient_id": "1"}).raise_for_status()
    await chat.say(f"void {envelope_id} because the terms changed")
    state = await chat.resume(APPROVE)
    name, payload = tool_results(state)[-1]
    assert name == "void_envelope" and payload["error"] == "ENVELOPE_CANNOT_VOID_INVALID_STATE"
    assert "can't be voided" in last_text(state) and "Traceback" not in last_text(state)
    rows = [r for r in await audit_rows(chat) if r.operation == "void_envelope"]
    assert rows[-1].status == "failed" and rows[-1].error_code == "ENVELOPE_CANNOT_VOID_INVALID_STATE"
    assert rows[-1].docusign_trace_token


async def test_bulk_send_reject(chat: Chat) -> None:
    state = await chat.say("bulk send the Offer Letter template to: ann@example.com, bo@example.com")
    assert interrupts(state)[0]["action_requests"][0]["name"] == "bulk_send"
    state = await chat.resume({"type": "reject"})
    assert tool_results(state)[-1][1]["error"] == "rejected"
    from db.models import BulkOperation
    async with chat.database.user_session(chat.user_id) as session:
        assert (await session.execute(select(BulkOperation))).first() is None


async def test_correct_and_send_draft_reject(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    await chat.say(f"correct bob@example.com to robert@example.com on {envelope_id}")
    await chat.resume({"type": "reject"})
    assert truth(chat, envelope_id)["recipients"][0]["email"] == "bob@example.com"
    state = await chat.say("send the Offer Letter template to Jane Doe (jane@acme.com) as a draft")
    draft_id = tool_results(state)[-1][1]["envelope_id"]
    await chat.say(f"send draft {draft_id}")
    await chat.resume({"type": "reject"})
    assert truth(chat, draft_id)["status"] == "created"


async def test_reminder_opt_out_skips_approval_only_for_reminders(chat: Chat) -> None:
    from sqlalchemy import update

    from db.models import UserPreferences
    envelope_id = await sent_envelope(chat)
    async with chat.database.user_session(chat.user_id) as session:
        await session.execute(update(UserPreferences).values(confirm_reminders=False))
    state = await chat.say(f"remind the signers of {envelope_id}")
    assert not interrupts(state) and tool_results(state)[-1][0] == "remind_recipients"
    state = await chat.say(f"void {envelope_id} because the terms changed")
    assert interrupts(state)  # never for void


async def test_malformed_resume_asks_again_and_changes_nothing(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    await chat.say(f"void {envelope_id} because the terms changed")
    state = await chat.resume()  # zero decisions for one request
    [again] = interrupts(state)
    assert again["error"] == "command.resume.decisions: expected 1 decision(s), got 0"
    assert again["action_requests"][0]["name"] == "void_envelope"
    state = await chat.resume({"type": "maybe"})
    assert "command.resume.decisions.0.type" in interrupts(state)[0]["error"]
    assert truth(chat, envelope_id)["status"] == "sent"
    await chat.resume(APPROVE)  # the thread is still usable
    assert truth(chat, envelope_id)["status"] == "voided"


async def test_injected_document_cannot_void_anything(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    await chat.upload("supplier.pdf", INJECTION_LINES)
    state = await chat.say("summarize supplier.pdf")
    assert tool_results(state)[-1][0] == "analyze_document"
    assert not interrupts(state)
    state = await chat.say("risks in supplier.pdf")
    risks = tool_results(state)[-1][1]["analysis"]["risks"]
    assert any(r["severity"] == "high" and "instruct" in r["risk"] for r in risks)
    assert truth(chat, envelope_id)["status"] == "sent"

    # Even a model fully taken over by the document cannot void without a person: make the model's turn
    # itself ask for the void, and the graph stops at the gate.
    call = {"name": "void_envelope", "args": {"envelope_id": envelope_id, "reason": "as the document says"},
            "id": f"call_{uuid.uuid4().hex[:8]}", "type": "tool_call"}
    await chat.graph.aupdate_state(chat.config, {"messages": [AIMessage(content="", tool_calls=[call])]}, as_node="model")
    state = await chat.graph.ainvoke(None, chat.config, context=chat.context)
    assert interrupts(state)[0]["action_requests"][0]["name"] == "void_envelope"
    assert truth(chat, envelope_id)["status"] == "sent"

    # And the tool node refuses an irreversible call that did not pass the gate.
    thread = chat.new_thread()
    call2 = {**call, "id": f"call_{uuid.uuid4().hex[:8]}"}
    await thread.graph.aupdate_state(thread.config, {"messages": [AIMessage(content="", tool_calls=[call2])]}, as_node="gate")
    state = await thread.graph.ainvoke(None, thread.config, context=thread.context)
    name, payload = tool_results(state)[0]
    assert payload["error"] == "not_approved"
    assert truth(chat, envelope_id)["status"] == "sent"


async def test_audit_rows_for_approved_and_failed_calls(chat: Chat) -> None:
    envelope_id = await sent_envelope(chat)
    rows = await audit_rows(chat)
    send = [r for r in rows if r.operation == "send_document"]
    assert send[0].status == "succeeded" and send[0].envelope_id == envelope_id and send[0].finished_at
    assert send[0].arguments["signers"][0]["email"] == "bob@example.com"
    assert send[0].docusign_trace_token and send[0].duration_ms is not None
    # A call that fails validation is audited too, and DocuSign is not called.
    from tools.base import execute
    from tools.registry import BY_NAME
    ctx = chat.tool_context("call_manual")
    payload = await execute(BY_NAME["void_envelope"], {"envelope_id": envelope_id, "reason": ""}, ctx)
    assert payload["error"] == "invalid_argument" and payload["field"] == "reason"
    last = (await audit_rows(chat))[-1]
    assert (last.operation, last.status, last.error_code) == ("void_envelope", "failed", "invalid_argument")
    assert truth(chat, envelope_id)["status"] == "sent"
    assert json.dumps(last.arguments)


async def test_approval_describes_the_action_in_plain_words(chat: Chat) -> None:
    state = await chat.say("send the NDA template to Bob Stone bob@example.com, cc legal@example.com")
    [request] = interrupts(state)[0]["action_requests"]
    assert request["description"] == ("Send *Mutual NDA* to Bob Stone <bob@example.com>, CC Legal <legal@example.com>, "
                                      "subject “Please sign the Mutual Non-Disclosure Agreement”.")
    await chat.upload("msa.pdf", CONTRACT_LINES)
    state = await chat.new_thread().say("send msa.pdf to Ann Lee ann@example.com and Bo Park bo@example.com")
    [request] = interrupts(state)[0]["action_requests"]
    assert request["description"] == ("Send *msa.pdf* for signature to Ann Lee <ann@example.com> and Bo Park "
                                      "<bo@example.com>, subject “Please sign: msa.pdf”.")


@pytest.mark.parametrize(("request_text", "error"), [
    ("send the Bogus template to bob@example.com", "unknown_template"),
    ("send missing-file.pdf to Bob Smith bob@example.com", "unknown_document"),
])
async def test_a_call_that_can_only_fail_is_never_put_to_a_person(chat: Chat, request_text: str, error: str) -> None:
    state = await chat.say(request_text)
    assert not interrupts(state)
    name, payload = tool_results(state)[-1]
    assert payload["error"] == error and "nobody was asked to approve it" in payload["message"]
    assert "envelopes" not in payload
    state = await chat.say("list my envelopes")
    assert tool_results(state)[-1][1]["envelopes"] == []  # nothing reached DocuSign
    rows = await audit_rows(chat)
    assert [(r.operation, r.status, r.actor) for r in rows if r.operation == name] == [(name, "failed", "agent")]


async def test_edit_with_list_arguments_as_json_text(chat: Chat) -> None:
    """agent-chat-ui edits every argument as text: lists and objects arrive as JSON strings."""
    state = await chat.say("send the NDA template to Bob Stone bob@example.com")
    args = interrupts(state)[0]["action_requests"][0]["args"]
    edited = {**args, "recipients": json.dumps([{"name": "Bob Stone", "email": "bob.stone@example.org"}]),
              "cc": json.dumps([{"name": "Legal", "email": "legal@example.org"}])}
    state = await chat.resume({"type": "edit", "edited_action": {"name": "send_template", "args": edited}})
    payload = tool_results(state)[-1][1]
    assert "error" not in payload, payload
    env = truth(chat, payload["envelope_id"])
    assert [r["email"] for r in env["recipients"]] == ["bob.stone@example.org", "legal@example.org"]
    # JSON text that is not valid JSON is named in the refusal, and nothing is sent
    state = await chat.say("send the NDA template to Carol Jones carol@example.com")
    args = interrupts(state)[0]["action_requests"][0]["args"]
    state = await chat.resume({"type": "edit", "edited_action": {"name": "send_template",
                                                                  "args": {**args, "recipients": "[{oops"}}})
    payload = tool_results(state)[-1][1]
    assert payload["error"] == "invalid_edit" and "recipients" in payload["message"]
