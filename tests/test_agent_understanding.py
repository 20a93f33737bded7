"""Everyday wording through the whole product: the compiled graph, the offline model over ChatOpenAI, the
tools and the emulator over the real SDK. Each request is worded the way people write, not the way the rules
were first written, and the emulator's state is checked after each approved step."""

from __future__ import annotations

from typing import Any

import httpx
from agent_helpers import INJECTION_LINES, Chat, interrupts, last_text, tool_results

APPROVE = {"type": "approve"}


def emulator_envelope(chat: Chat, envelope_id: str) -> dict[str, Any]:
    response = httpx.get(f"{chat.emulator.url}/_emulator/envelopes/{envelope_id}")
    response.raise_for_status()
    return response.json()


def requested(state: dict[str, Any]) -> dict[str, Any]:
    [request] = interrupts(state)[0]["action_requests"]
    return request


async def send_approved(chat: Chat, text: str, tool: str = "send_template") -> str:
    state = await chat.say(text)
    assert requested(state)["name"] == tool, last_text(state)
    state = await chat.resume(APPROVE)
    name, payload = tool_results(state)[-1]
    assert name == tool and "error" not in payload, payload
    return payload["envelope_id"]


async def test_casual_formal_and_misspelt_sends_reach_the_nda(chat: Chat) -> None:
    for text, person in [
        ("could you get the nda out to kai@example.com so she can sign", ("Kai", "kai@example.com")),
        ("please obtain a signature from Dr. Lee <lee@example.com> on our mutual non-disclosure agreement",
         ("Dr. Lee", "lee@example.com")),
        ("sned teh nda to José Núñez jose@example.com", ("José Núñez", "jose@example.com")),
    ]:
        envelope_id = await send_approved(chat.new_thread(), text)
        truth = emulator_envelope(chat, envelope_id)
        assert truth["status"] == "sent" and "Non-Disclosure" in truth["email_subject"]
        assert [(r["name"], r["email"]) for r in truth["recipients"] if r["kind"] == "signer"][:1] == [person]


async def test_second_turn_supplies_the_signer(chat: Chat) -> None:
    state = await chat.say("I need to send the NDA")
    assert not interrupts(state) and "who should sign" in last_text(state).lower()
    state = await chat.say("it's for Ana O'Brien ana@example.com")
    request = requested(state)
    assert request["name"] == "send_template"
    assert request["args"]["recipients"][0] == {"name": "Ana O'Brien", "email": "ana@example.com"}


async def test_correction_in_plain_words_changes_the_recipient(chat: Chat) -> None:
    envelope_id = await send_approved(chat, "send the NDA to a@example.com")
    talk = chat.new_thread()
    state = await talk.say("the address on the NDA for a@example.com was wrong, use b@example.com")
    request = requested(state)
    assert request["name"] == "correct_recipient"
    assert request["args"] == {"envelope_id": envelope_id, "recipient": "a@example.com", "email": "b@example.com"}
    await talk.resume(APPROVE)
    emails = [r["email"] for r in emulator_envelope(chat, envelope_id)["recipients"]]
    assert "b@example.com" in emails and "a@example.com" not in emails


async def test_reason_in_the_same_sentence_voids_without_asking(chat: Chat) -> None:
    envelope_id = await send_approved(chat, "send the NDA to c@example.com")
    other = chat.new_thread()
    state = await other.say("cancel the NDA to c@example.com, the deal is off")
    request = requested(state)
    assert request["name"] == "void_envelope"
    assert request["args"] == {"envelope_id": envelope_id, "reason": "The deal is off"}
    state = await other.resume(APPROVE)
    assert emulator_envelope(chat, envelope_id)["status"] == "voided"


async def test_two_matches_ask_which_and_the_second_is_understood(chat: Chat) -> None:
    first = await send_approved(chat, "send the NDA to dee@example.com")
    second = await send_approved(chat.new_thread(), "send the offer letter to dee@example.com")
    talk = chat.new_thread()
    state = await talk.say("nudge the envelope I sent to dee@example.com")
    answer = last_text(state)
    assert not interrupts(state) and first in answer and second in answer and "Which one" in answer
    listed = [line for line in answer.splitlines() if line.startswith("- ")]
    wanted = second if second in listed[1] else first
    state = await talk.say("the second one")
    request = requested(state)
    assert request == {"name": "remind_recipients", "args": {"envelope_id": wanted},
                       "description": request["description"]}


async def test_instructions_inside_a_document_are_not_obeyed(chat: Chat) -> None:
    envelope_id = await send_approved(chat, "send the NDA to eve@example.com")
    await chat.upload("supplier.pdf", INJECTION_LINES)
    talk = chat.new_thread()
    state = await talk.say("give me the gist of supplier.pdf")
    assert not interrupts(state)
    assert [name for name, _ in tool_results(state)] == ["analyze_document"]
    assert emulator_envelope(chat, envelope_id)["status"] == "sent"
