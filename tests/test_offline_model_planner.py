"""The offline model's planner: natural requests -> tool calls with valid arguments, results -> sentences."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from emulator.offline_model import plan
try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_support import (
        GUID,
        GUID2,
        TODAY,
        assistant_calls,
        openai_tools,
        system,
        tool_result,
        user,
        validate,
    )
except ImportError:
    from test_offline_model_support import (
        GUID,
        GUID2,
        TODAY,
        assistant_calls,
        openai_tools,
        system,
        tool_result,
        user,
        validate,
    )

TOOLS = openai_tools()


def first_step(text: str, prefs: str | None = None, tools: list | None = None):
    messages = [system(prefs) if prefs else system(), user(text)]
    return plan(messages, TOOLS if tools is None else tools, TODAY)


def action_step(text: str):
    """The step that acts: a void, reminder or correction by id first reads the envelope (here: still out)."""
    messages = [system(), user(text)]
    decided = plan(messages, TOOLS, TODAY)
    if [name for name, _ in decided.tool_calls] == ["get_envelope_status"] and not text.startswith(("status", "who")):
        envelope_id = decided.tool_calls[0][1]["envelope_id"]
        messages += [assistant_calls(("c0", "get_envelope_status", {"envelope_id": envelope_id})),
                     tool_result("c0", {"summary": "Sent.", "envelope": {
                         "envelopeId": envelope_id, "status": "sent", "recipients": {"signers": [
                             {"name": "Bob", "email": "bob@x.com", "status": "sent", "recipientId": "1"}]}}})]
        decided = plan(messages, TOOLS, TODAY)
    return decided


# --- one natural request per tool (and the common variants) ------------------------------------------------
TABLE: list[tuple[str, str, dict[str, Any]]] = [
    ("list my envelopes", "list_envelopes", {}),
    ("show envelopes sent last week", "list_envelopes", {"from_date": "2025-03-03", "to_date": "2025-03-09"}),
    ("what's waiting for signature", "list_envelopes", {"status": "sent"}),
    ("completed envelopes from bob@example.com", "list_envelopes",
     {"status": "completed", "recipient": "bob@example.com"}),
    ("show me my drafts", "list_envelopes", {"status": "created"}),
    ("list envelopes from the last 7 days", "list_envelopes", {"from_date": "2025-03-05"}),
    ("show my last 5 envelopes", "list_envelopes", {"count": 5}),
    ("declined envelopes this month", "list_envelopes", {"status": "declined", "from_date": "2025-03-01"}),
    (f"status of envelope {GUID}", "get_envelope_status", {"envelope_id": GUID}),
    (f"who hasn't signed {GUID}", "get_envelope_status", {"envelope_id": GUID}),
    ("what templates do I have", "list_templates", {}),
    ("list templates for sales", "list_templates", {"search_text": "sales"}),
    ("show the NDA template", "get_template", {"template": "NDA"}),
    (f"what documents are in {GUID}", "list_envelope_documents", {"envelope_id": GUID}),
    (f"audit trail for {GUID}", "get_audit_events", {"envelope_id": GUID}),
    (f"show the history of {GUID}", "get_audit_events", {"envelope_id": GUID}),
    ("what have I uploaded", "list_my_documents", {}),
    ("send contract.pdf to Bob Smith bob@example.com", "send_document",
     {"document": "contract.pdf", "signers": [{"name": "Bob Smith", "email": "bob@example.com"}]}),
    ("send contract.pdf to Bob Smith <bob@x.com> and Carol Jones (carol@y.com)", "send_document",
     {"signers": [{"name": "Bob Smith", "email": "bob@x.com"}, {"name": "Carol Jones", "email": "carol@y.com"}]}),
    ("send contract.pdf, have bob@x.com sign first then carol@y.com", "send_document",
     {"signers": [{"name": "Bob", "email": "bob@x.com", "routing_order": 1},
                  {"name": "Carol", "email": "carol@y.com", "routing_order": 2}]}),
    ("send contract.pdf to bob@x.com and save it as a draft", "send_document", {"draft": True}),
    ('send contract.pdf to bob@x.com with subject "Please sign" and message "Thanks Bob"', "send_document",
     {"email_subject": "Please sign", "email_message": "Thanks Bob"}),
    ("send the NDA template to bob@example.com and cc alice@example.com", "send_template",
     {"template": "NDA", "recipients": [{"name": "Bob", "email": "bob@example.com"}],
      "cc": [{"name": "Alice", "email": "alice@example.com"}]}),
    ("send the Offer Letter template to Jane Doe (jane@acme.com) as a draft", "send_template",
     {"template": "Offer Letter", "recipients": [{"name": "Jane Doe", "email": "jane@acme.com"}], "draft": True}),
    (f"send draft {GUID}", "send_draft", {"envelope_id": GUID}),
    (f"signing link for bob@example.com on {GUID}", "create_signing_link",
     {"envelope_id": GUID, "recipient": "bob@example.com"}),
    (f"remind the signers of {GUID}", "remind_recipients", {"envelope_id": GUID}),
    (f"correct recipient 1 name to Robert Smith on {GUID}", "correct_recipient",
     {"envelope_id": GUID, "recipient": "1", "name": "Robert Smith"}),
    (f"correct bob@x.com to robert@x.com on {GUID}", "correct_recipient",
     {"recipient": "bob@x.com", "email": "robert@x.com"}),
    (f"void {GUID} because the terms changed", "void_envelope", {"envelope_id": GUID, "reason": "The terms changed"}),
    (f"download the signed pdf of {GUID}", "download_document", {"envelope_id": GUID, "document": "combined"}),
    (f"download the certificate of {GUID}", "download_document", {"document": "certificate"}),
    (f"download the archive for {GUID}", "download_document", {"document": "archive"}),
    ("bulk send the Offer Letter template to: a@x.com, b@y.com", "bulk_send",
     {"template": "Offer Letter", "rows": [{"name": "A", "email": "a@x.com"}, {"name": "B", "email": "b@y.com"}]}),
    ("bulk send the NDA template with this CSV:\nname,email\nAnn Lee,ann@x.com\nBo Chan,bo@y.com", "bulk_send",
     {"template": "NDA", "csv": "name,email\nAnn Lee,ann@x.com\nBo Chan,bo@y.com"}),
    ("status of batch Q3 offers", "get_bulk_send_status", {"batch": "Q3 offers"}),
    (f"how is batch {GUID} doing?", "get_bulk_send_status", {"batch": GUID}),
    ("summarize contract.pdf", "analyze_document", {"document": "contract.pdf", "kind": "summary"}),
    ("key terms in contract.pdf", "analyze_document", {"kind": "key_terms"}),
    ("who are the parties in contract.pdf", "analyze_document", {"kind": "key_terms"}),
    ("list the renewal dates and parties in contract.pdf", "analyze_document", {"kind": "key_terms"}),
    ("when does contract.pdf renew?", "ask_document", {"question": "when does contract.pdf renew?"}),
    ("risks in contract.pdf", "analyze_document", {"kind": "risks"}),
    ("what does contract.pdf say about termination?", "ask_document",
     {"document": "contract.pdf", "question": "what does contract.pdf say about termination?"}),
    ("remember that Dana Cruz's email is dana@example.com", "remember",
     {"kind": "contact", "name": "Dana Cruz", "email": "dana@example.com"}),
    ("forget dana@example.com", "forget", {"kind": "contact", "email": "dana@example.com"}),
    ("what do you remember about me?", "list_memories", {}),
    ("every Monday at 9am remind everyone who hasn't signed yet", "schedule_task",
     {"instruction": "remind everyone who hasn't signed yet", "schedule": "0 9 * * 1"}),
    ("what do you have scheduled for me?", "list_scheduled_tasks", {}),
    (f"cancel scheduled task {GUID}", "cancel_scheduled_task", {"task_id": GUID}),
]


@pytest.mark.parametrize(("text", "tool", "expected"), TABLE, ids=[row[0][:50] for row in TABLE])
def test_request_becomes_a_valid_tool_call(text: str, tool: str, expected: dict[str, Any]) -> None:
    assert_one_call(action_step(text), tool, expected)


def assert_one_call(decided, tool: str, expected: dict[str, Any]) -> None:
    """`decided` is one valid call of `tool` with (at least) the `expected` arguments."""
    assert decided.content is None, decided.content
    assert [name for name, _ in decided.tool_calls] == [tool]
    arguments = decided.tool_calls[0][1]
    validate(tool, arguments)
    for key, value in expected.items():
        assert arguments.get(key) == value, (key, arguments)


def test_every_tool_is_covered_by_the_table() -> None:
    assert {row[1] for row in TABLE} == {t["function"]["name"] for t in TOOLS}


def test_void_without_reason_asks_for_one_instead_of_calling() -> None:
    decided = first_step(f"void {GUID}")
    assert not decided.tool_calls
    assert "reason" in decided.content.lower() and decided.content.endswith(".")


def test_only_tools_in_the_request_are_called() -> None:
    decided = first_step(f"void {GUID} because of a typo", tools=openai_tools(["list_envelopes"]))
    assert not decided.tool_calls
    assert "isn't available" in decided.content


def test_arguments_the_tool_definition_lacks_are_dropped() -> None:
    trimmed = openai_tools(["send_document"])
    del trimmed[0]["function"]["parameters"]["properties"]["draft"]
    decided = first_step("send contract.pdf to bob@x.com as a draft", tools=trimmed)
    assert decided.tool_calls[0][0] == "send_document" and "draft" not in decided.tool_calls[0][1]


def test_deterministic() -> None:
    runs = {json.dumps(first_step("send the NDA template to bob@example.com").tool_calls) for _ in range(5)}
    assert len(runs) == 1


# --- conversations with tool results -----------------------------------------------------------------------
Responder = Callable[[str, dict[str, Any]], dict[str, Any]]


def converse(text: str, respond: Responder, history: list[dict] | None = None, prefs: str | None = None,
             max_steps: int = 8) -> tuple[str, list[tuple[str, dict]], list[dict]]:
    """Run one user turn to its final answer, answering each tool call with `respond` (the model's input)."""
    messages = (history or [system(prefs) if prefs else system()]) + [user(text)]
    calls: list[tuple[str, dict]] = []
    for step in range(max_steps):
        decided = plan(messages, TOOLS, TODAY)
        if not decided.tool_calls:
            messages.append({"role": "assistant", "content": decided.content})
            return decided.content, calls, messages
        batch = []
        for index, (name, args) in enumerate(decided.tool_calls):
            validate(name, args)
            batch.append((f"call_{len(messages)}_{index}", name, args))
            calls.append((name, args))
        messages.append(assistant_calls(*batch))
        messages += [tool_result(call_id, respond(name, args)) for call_id, name, args in batch]
    raise AssertionError(f"no final answer after {max_steps} steps: {calls}")


def envelope(envelope_id: str, status: str, subject: str, *signers: tuple[str, str, str]) -> dict[str, Any]:
    return {"envelopeId": envelope_id, "status": status, "emailSubject": subject,
            "recipients": {"signers": [{"name": n, "email": e, "status": s, "recipientId": str(i + 1)}
                                       for i, (n, e, s) in enumerate(signers)]}}


def still_out(respond: Responder) -> Responder:
    """`respond`, with envelopes read by get_envelope_status still waiting for signature."""
    def answer(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": "Sent.", "envelope": envelope(args["envelope_id"], "sent", "NDA", ("Bob", "bob@x.com", "sent"))}
        return respond(name, args)
    return answer


def test_void_by_lookup_of_a_completed_envelope_explains_without_calling() -> None:
    def respond(name: str, args: dict) -> dict:
        assert name == "list_envelopes" and args == {"recipient": "bob@x.com"}
        return {"summary": "Found 1 envelope.", "envelopes": [envelope(GUID, "completed", "MSA", ("Bob", "bob@x.com", "completed"))]}

    answer, calls, _ = converse("void the envelope I sent to bob@x.com because the deal fell through", respond)
    assert [c[0] for c in calls] == ["list_envelopes"]
    assert "already finished" in answer and GUID in answer and "Nothing was done." in answer


def test_a_failed_void_is_explained() -> None:
    def respond(name: str, args: dict) -> dict:
        assert name == "void_envelope" and args == {"envelope_id": GUID, "reason": "The deal fell through"}
        return {"error": "ENVELOPE_CANNOT_VOID_INVALID_STATE",
                "message": "The envelope can't be voided because it is already completed."}

    answer, calls, _ = converse(f"void {GUID} because the deal fell through", still_out(respond))
    assert answer == "The envelope can't be voided because it is already completed."


def test_ambiguous_lookup_asks_which_with_real_ids_then_follow_up_acts() -> None:
    found = [envelope(GUID, "sent", "NDA", ("Bob", "bob@x.com", "sent")),
             envelope(GUID2, "delivered", "MSA", ("Bob", "bob@x.com", "delivered"))]

    def respond(name: str, args: dict) -> dict:
        if name == "list_envelopes":
            return {"summary": "Found 2 envelopes.", "envelopes": found}
        return {"summary": f"Envelope {args['envelope_id']} was voided."}

    answer, calls, history = converse("void the envelope I sent to bob@x.com because of a typo", respond)
    assert "Which one" in answer and GUID in answer and GUID2 in answer
    answer, calls, _ = converse(GUID2, respond, history=history)
    assert calls == [("void_envelope", {"envelope_id": GUID2, "reason": "A typo"})]
    assert answer == f"Envelope {GUID2} was voided."


def test_missing_reason_is_asked_for_and_the_answer_completes_the_request() -> None:
    respond = still_out(lambda name, args: {"summary": f"Envelope {args['envelope_id']} was voided."})
    answer, calls, history = converse(f"void {GUID}", respond)
    assert not calls and "reason" in answer.lower()
    answer, calls, _ = converse("the client asked for new terms", respond, history=history)
    assert calls[-1:] == [("void_envelope", {"envelope_id": GUID, "reason": "The client asked for new terms"})]
    assert answer == f"Envelope {GUID} was voided."


def test_never_mind_after_a_question_does_nothing() -> None:
    respond = lambda name, args: pytest.fail("no tool should run")  # noqa: E731
    _, _, history = converse(f"void {GUID}", respond)
    answer, calls, _ = converse("never mind", respond, history=history)
    assert not calls and "Nothing was done" in answer


def test_remind_everyone_on_pending_envelopes_acts_on_each() -> None:
    found = [envelope(GUID, "sent", "NDA"), envelope(GUID2, "sent", "MSA")]

    def respond(name: str, args: dict) -> dict:
        if name == "list_envelopes":
            assert args == {"status": "sent"}
            return {"summary": "Found 2 envelopes waiting for signature.", "envelopes": found}
        return {"summary": f"Reminders were sent for envelope {args['envelope_id']}."}

    answer, calls, _ = converse("remind everyone on my pending envelopes", respond)
    assert [c[0] for c in calls] == ["list_envelopes", "remind_recipients", "remind_recipients"]
    assert f"Reminders were sent for envelope {GUID}." in answer and GUID2 in answer


def test_send_then_signing_link_uses_the_new_envelope() -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "send_template":
            assert args == {"template": "NDA", "recipients": [{"name": "Bob", "email": "bob@example.com"}]}
            return {"summary": "Sent the NDA to Bob (bob@example.com).",
                    "envelope": envelope(GUID, "sent", "NDA", ("Bob", "bob@example.com", "sent"))}
        assert name == "create_signing_link"
        assert args == {"envelope_id": GUID, "recipient": "bob@example.com"}
        return {"summary": "Here is Bob's signing link; it expires in 5 minutes.", "url": "https://sign.example/abc"}

    answer, calls, _ = converse("send the NDA to bob@example.com and then give me the signing link", respond)
    assert [c[0] for c in calls] == ["send_template", "create_signing_link"]
    assert answer.startswith("Sent the NDA to Bob (bob@example.com). Here is Bob's signing link")
    assert "https://sign.example/abc" in answer


def test_first_step_failing_stops_the_rest() -> None:
    def respond(name: str, args: dict) -> dict:
        assert name == "send_template"
        return {"error": "not_found", "message": "There is no template called NDA."}

    answer, calls, _ = converse("send the NDA template to bob@example.com and then give me the signing link", respond)
    assert [c[0] for c in calls] == ["send_template"]
    assert answer == "There is no template called NDA."


def test_name_without_email_uses_an_earlier_mention_or_asks() -> None:
    respond = lambda name, args: {"summary": "Sent.", "envelope": envelope(GUID, "sent", "NDA")}  # noqa: E731
    answer, calls, history = converse("send the NDA to bob", respond)
    assert not calls and answer == "What is Bob's email address?"
    answer, calls, history = converse("bob@example.com", respond, history=history)
    assert calls == [("send_template", {"template": "NDA", "recipients": [{"name": "Bob", "email": "bob@example.com"}]})]
    answer, calls, _ = converse("send the Offer Letter template to bob", respond, history=history)
    assert calls[0][1]["recipients"] == [{"name": "Bob", "email": "bob@example.com"}]


def test_signing_link_without_recipient_picks_the_signer_still_to_sign() -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": "Out for signature.", "envelope": envelope(
                GUID, "sent", "MSA", ("Bob", "bob@x.com", "completed"), ("Carol", "carol@y.com", "sent"))}
        assert args == {"envelope_id": GUID, "recipient": "carol@y.com"}
        return {"summary": "Here is Carol's signing link.", "url": "https://sign.example/carol"}

    answer, calls, _ = converse(f"give me the signing link for {GUID}", respond)
    assert [c[0] for c in calls] == ["get_envelope_status", "create_signing_link"]
    assert answer == "Here is Carol's signing link. Link: https://sign.example/carol"


def test_who_hasnt_signed_lists_pending_signers() -> None:
    def respond(name: str, args: dict) -> dict:
        return {"summary": "The MSA envelope is out for signature.",
                "envelope": envelope(GUID, "sent", "MSA", ("Bob Smith", "bob@x.com", "completed"),
                                     ("Carol", "carol@y.com", "sent"))}

    answer, _, _ = converse(f"who hasn't signed {GUID}", respond)
    assert answer == "The MSA envelope is out for signature. Still waiting on: Carol (carol@y.com)."


def test_correct_by_name_looks_up_the_recipient_first() -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": "Out for signature.", "envelope": envelope(GUID, "sent", "MSA", ("Bob Smith", "bob@x.com", "sent"))}
        assert args == {"envelope_id": GUID, "recipient": "bob@x.com", "email": "robert@example.com"}
        return {"summary": "Bob Smith's email is now robert@example.com and the envelope was resent."}

    answer, calls, _ = converse(f"change bob's email to robert@example.com on {GUID}", respond)
    assert [c[0] for c in calls] == ["get_envelope_status", "correct_recipient"]
    assert answer == "Bob Smith's email is now robert@example.com and the envelope was resent."


def test_list_answer_names_envelopes_and_respects_concise() -> None:
    found = [envelope(f"{i:08d}-0000-4000-8000-000000000000", "sent", f"Contract {i}") for i in range(6)]
    respond = lambda name, args: {"summary": "You have 6 envelopes waiting for signature.", "envelopes": found}  # noqa: E731
    answer, _, _ = converse("what's waiting for signature", respond)
    assert answer.startswith("You have 6 envelopes waiting for signature.\n- Contract 0 (sent)")
    assert answer.count("\n- ") == 6
    short, _, _ = converse("what's waiting for signature", respond, prefs="Preferences: tone=concise; verbosity=concise")
    assert short == "You have 6 envelopes waiting for signature."
    friendly, _, _ = converse("what's waiting for signature", respond, prefs='{"tone": "friendly", "verbosity": "normal"}')
    assert friendly.endswith("Let me know if there's anything else I can do.")


def test_rejected_approval_says_nothing_was_done() -> None:
    respond = still_out(lambda name, args: {"error": "rejected", "message": "The user rejected this action."})
    answer, calls, _ = converse(f"void {GUID} because the terms changed", respond)
    assert [c[0] for c in calls] == ["get_envelope_status", "void_envelope"]
    assert answer.startswith("Nothing was done: voiding the envelope was rejected.")


def test_not_understood_is_honest_and_lists_capabilities() -> None:
    decided = first_step("what's the weather in Paris tomorrow?")
    assert not decided.tool_calls
    assert decided.content.startswith("Sorry, I didn't understand")
    assert "list your envelopes" in decided.content and "void an envelope" in decided.content
    assert "1b2c" not in decided.content


def test_greeting_and_thanks() -> None:
    assert "I can" in first_step("hello").content
    assert first_step("thanks!").content == "You're welcome!"


def test_save_it_as_a_draft_follows_up_the_previous_send() -> None:
    def respond(name: str, args: dict) -> dict:
        return {"error": "rejected", "message": "Rejected."} if not args.get("draft") else {
            "summary": "Saved a draft for Bob.", "envelope": envelope(GUID, "created", "Contract")}

    _, calls, history = converse("send contract.pdf to Bob Smith bob@example.com", respond)
    answer, calls, history = converse("save it as a draft", respond, history=history)
    assert calls == [("send_document", {"document": "contract.pdf",
                                        "signers": [{"name": "Bob Smith", "email": "bob@example.com"}], "draft": True})]
    answer, calls, _ = converse("now send it", lambda n, a: {"summary": "The draft was sent."}, history=history)
    assert calls == [("send_draft", {"envelope_id": GUID})] and answer == "The draft was sent."


def test_more_pages_through_the_previous_list() -> None:
    respond = lambda name, args: {"summary": "Found envelopes.", "envelopes": []}  # noqa: E731
    _, _, history = converse("show my last 5 envelopes", respond)
    _, calls, _ = converse("more", respond, history=history)
    assert calls == [("list_envelopes", {"count": 5, "start_position": 5})]


def test_analysis_results_are_reported() -> None:
    def respond(name: str, args: dict) -> dict:
        return {"summary": "contract.pdf has 2 notable risks.", "risks": ["Auto-renews for 3 years", "Unlimited liability"]}

    answer, _, _ = converse("risks in contract.pdf", respond)
    assert answer == "contract.pdf has 2 notable risks.\n- Auto-renews for 3 years\n- Unlimited liability"


def test_it_refers_to_the_envelope_just_sent() -> None:
    def respond(name: str, args: dict) -> dict:
        return {"summary": "Sent the NDA to Bob.", "envelope": envelope(GUID, "sent", "NDA", ("Bob", "bob@x.com", "sent"))}

    _, _, history = converse("send the NDA template to bob@x.com", respond)
    for text, tool in [("who hasn't signed it?", "get_envelope_status"), ("remind them", "remind_recipients"),
                       ("download the certificate", "download_document"), ("what documents are in it", "list_envelope_documents")]:
        decided = plan(history + [user(text)], TOOLS, TODAY)
        assert decided.tool_calls and decided.tool_calls[0][0] == tool
        assert decided.tool_calls[0][1]["envelope_id"] == GUID


@pytest.mark.parametrize(
    ("line", "tone", "verbosity"),
    [
        ("Preferences: tone=friendly; verbosity=brief", "friendly", "concise"),
        ("User preferences: tone: formal, verbosity: detailed", "formal", "detailed"),
        ('{"tone": "concise", "verbosity": "normal"}', "concise", "normal"),
        ("tone=concise", "concise", "concise"),
        ("You are a DocuSign assistant.", "neutral", "normal"),
    ],
)
def test_preference_line_formats(line: str, tone: str, verbosity: str) -> None:
    from emulator.offline_model.conversation import parse_prefs

    prefs = parse_prefs(line)
    assert (prefs.tone, prefs.verbosity) == (tone, verbosity)
