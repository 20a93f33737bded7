"""Questions about what is there (envelopes sent, declines, an envelope's state or files, a template's roles, an
attached file's text) read, in other words than the eval dataset's; and a draft is recognised however it is put."""

from __future__ import annotations

from typing import Any

import pytest

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import assert_one_call, first_step
    from tests.test_offline_model_support import GUID
except ImportError:
    from test_offline_model_planner import assert_one_call, first_step
    from test_offline_model_support import GUID

READS: list[tuple[str, str, dict[str, Any]]] = [
    ("have I sent anything to lee@x.com?", "list_envelopes", {"recipient": "lee@x.com"}),
    ("list what we've sent to bo@y.com", "list_envelopes", {"recipient": "bo@y.com"}),
    ("tell me everything I already sent to ko@z.com", "list_envelopes", {"recipient": "ko@z.com"}),
    ("has anybody declined?", "list_envelopes", {"status": "declined"}),
    ("which ones did people decline this month", "list_envelopes", {"status": "declined", "from_date": "2025-03-01"}),
    ("show me what got turned down", None, {}),
    (f"is envelope {GUID} finished?", "get_envelope_status", {"envelope_id": GUID}),
    (f"was {GUID} completed?", "get_envelope_status", {"envelope_id": GUID}),
    (f"is {GUID} out yet?", "get_envelope_status", {"envelope_id": GUID}),
    (f"which files does envelope {GUID} contain?", "list_envelope_documents", {"envelope_id": GUID}),
    (f"how many documents are in {GUID}?", "list_envelope_documents", {"envelope_id": GUID}),
    (f"give me the list of pdfs on envelope {GUID}", "list_envelope_documents", {"envelope_id": GUID}),
    ("what's the notice period here? [attached file “supply.pdf”]", "ask_document", {"document": "supply.pdf"}),
    ("is there an exclusivity clause? [attached file “terms-of-sale.pdf”]", "ask_document",
     {"document": "terms-of-sale.pdf", "question": "is there an exclusivity clause?"}),
    ("what roles are on the offer letter template?", "get_template", {"template": "offer letter"}),
    ("describe the Services Agreement template for me", "get_template", {"template": "Services Agreement"}),
    ("which fields does the NDA template have?", "get_template", {"template": "NDA"}),
    ("did lee@y.com sign the NDA yet?", "list_envelopes", {"recipient": "lee@y.com"}),
    ("has the offer letter to kim@x.com been signed?", "list_envelopes", {"recipient": "kim@x.com"}),
    (f"where's {GUID} at?", "get_envelope_status", {"envelope_id": GUID}),
    (f"who viewed {GUID}?", "get_audit_events", {"envelope_id": GUID}),
    (f"when did the signer open {GUID}?", "get_audit_events", {"envelope_id": GUID}),
    ("can you pull up template Offer Letter?", "get_template", {"template": "Offer Letter"}),
    ("which template do we use for contractors?", "list_templates", {}),
    (f"what's inside envelope {GUID}?", "list_envelope_documents", {"envelope_id": GUID}),
    ("who signs for the landlord here? [attached file “flat.pdf”]", "ask_document", {"document": "flat.pdf"}),
    ("what's the status of all the envelopes I sent this month?", "list_envelopes", {"from_date": "2025-03-01"}),
    ("statuses for everything we sent to ann@x.com", "list_envelopes", {"recipient": "ann@x.com"}),
    ("which of my envelopes are still out?", "list_envelopes", {"status": "sent"}),
    ("show envelopes that are not back yet", "list_envelopes", {"status": "sent"}),
    ("show everything that was sent to Sørensen", "list_envelopes", {"recipient": "Sørensen"}),
    ("list all that has been sent to ana@x.com", "list_envelopes", {"recipient": "ana@x.com"}),
    ("anything waiting for Chloé?", "list_envelopes", {"recipient": "Chloé"}),
    ("put offer.pdf into a draft for kim@x.com", "send_document", {"document": "offer.pdf", "draft": True}),
    ("set up a draft envelope with lease.pdf for jo@y.com, I want to look it over first", "send_document",
     {"document": "lease.pdf", "draft": True}),
    ("stage msa-2025.pdf as a draft for al@z.com so I can review it", "send_document",
     {"document": "msa-2025.pdf", "draft": True}),
]


@pytest.mark.parametrize(("text", "tool", "expected"), READS, ids=[row[0][:50] for row in READS])
def test_read_requests_in_other_words(text: str, tool: str | None, expected: dict[str, Any]) -> None:
    decided = first_step(text)
    if tool is None:  # understood as a list, whatever filter it picks
        assert [name for name, _ in decided.tool_calls] == ["list_envelopes"], decided.content
        return
    assert_one_call(decided, tool, expected)


@pytest.mark.parametrize("text", ["how's my bulk send going?", "what's the progress of the bulk send?",
                                  "status of my bulk sends please"])
def test_bulk_progress_without_a_batch_asks_which(text: str) -> None:
    decided = first_step(text)
    assert not decided.tool_calls and "Which batch?" in decided.content
