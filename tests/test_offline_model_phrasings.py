"""What is being sent, and the details around it, however a request is built: the person before the thing
("send jordan the offer letter"), a preface ("quick one - ..."), the passive ("our NDA be sent to ..."), the
words that only say it is the usual one, a void's reason after a name in brackets, a bulk send's batch name,
and signers after "then". Other words than the eval dataset's."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.offline_model import intents
from emulator.offline_model.conversation import Conversation

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import action_step, assert_one_call, first_step
except ImportError:
    from test_offline_model_planner import action_step, assert_one_call, first_step

SENDS: list[tuple[str, str, dict[str, Any]]] = [
    ("could you send Priya the services agreement? priya@x.com", "send_template",
     {"template": "services agreement", "recipients": [{"name": "Priya", "email": "priya@x.com"}]}),
    ("please send Mr. Ortiz the offer letter (ortiz@x.com)", "send_template", {"template": "offer letter"}),
    ("send her our NDA, her address is kim.ray@x.com", "send_template", {"template": "NDA"}),
    ("one more thing: the MSA to lee@x.com please", "send_template", {"template": "MSA"}),
    ("urgent - offer letter over to ana@x.com", "send_template", {"template": "offer letter"}),
    ("we'd like our usual NDA to be sent to kai@x.com", "send_template", {"template": "NDA"}),
    ("Could the standard offer letter be sent to ron@x.com?", "send_template", {"template": "offer letter"}),
    ("I'd like the regular services agreement sent over to jo@x.com", "send_template",
     {"template": "services agreement"}),
    ("We require the signature of Ms. Kay <kay@x.com> on the services agreement.", "send_template",
     {"template": "services agreement"}),
    ("Please have the MSA countersigned by cfo@x.com", "send_template", {"template": "MSA"}),
    ("Kindly get the offer letter executed by Mr. Ito (ito@x.jp)", "send_template", {"template": "offer letter"}),
    ("send lease.pdf to Ann Po (ann@x.com) first; then Bo Li (bo@y.com)", "send_document",
     {"signers": [{"name": "Ann Po", "email": "ann@x.com", "routing_order": 1},
                  {"name": "Bo Li", "email": "bo@y.com", "routing_order": 2}]}),
    ("send lease.pdf to ann@x.com first and then bo@y.com and then cy@z.com", "send_document",
     {"signers": [{"name": "Ann", "email": "ann@x.com", "routing_order": 1},
                  {"name": "Bo", "email": "bo@y.com", "routing_order": 2},
                  {"name": "Cy", "email": "cy@z.com", "routing_order": 3}]}),
    ("send the NDA template to ann@x.com; cc legal@x.com", "send_template",
     {"cc": [{"name": "Legal", "email": "legal@x.com"}]}),
    ("send lease.pdf to ann@x.com. Copy max@y.com please", "send_document",
     {"signers": [{"name": "Ann", "email": "ann@x.com"}], "cc": [{"name": "Max", "email": "max@y.com"}]}),
    ("bulk send the NDA to a@x.com and b@y.com, batch called partners 2025", "bulk_send",
     {"template": "NDA", "batch_name": "partners 2025"}),
    ("kick off a mass mailing of the offer letter to a@x.com, b@y.com and name the batch spring interns", "bulk_send",
     {"template": "offer letter", "batch_name": "spring interns"}),
    ('bulk send the MSA titled "Q4 vendors" to a@x.com and b@y.com', "bulk_send",
     {"template": "MSA", "batch_name": "Q4 vendors"}),
]


@pytest.mark.parametrize(("text", "tool", "expected"), SENDS, ids=[row[0][:50] for row in SENDS])
def test_what_is_sent_however_it_is_put(text: str, tool: str, expected: dict[str, Any]) -> None:
    assert_one_call(first_step(text), tool, expected)


@pytest.mark.parametrize(("text", "reason"), [
    ("please withdraw the NDA sent to Kim Lee (kim@x.com); we signed with another vendor", "We signed with another vendor"),
    ("void the MSA for Bo (bo@y.com) - the client went bankrupt", "The client went bankrupt"),
    ("cancel the offer letter to Dr. Ng <ng@x.com>, the candidate accepted elsewhere", "The candidate accepted elsewhere"),
])
def test_void_reason_after_the_person(text: str, reason: str) -> None:
    decided = first_step(text)
    assert decided.content is None, decided.content
    (name, args), = decided.tool_calls
    assert name == "list_envelopes"  # found first, then voided with the reason the intent carries
    conversation = Conversation([{"role": "user", "content": text}], {"list_envelopes": {}, "void_envelope": {}})
    intent = intents.build(conversation.turns[0].user_text, conversation.context(0, 0))
    assert intent.kind == "void" and intent.args.get("reason") == reason


def test_a_capitalised_request_after_then_is_its_own_step() -> None:
    decided = action_step("send the NDA template to a@x.com and then Remind b@y.com")
    assert [name for name, _ in decided.tool_calls] == ["send_template"]
    assert decided.tool_calls[0][1]["recipients"] == [{"name": "A", "email": "a@x.com"}]
