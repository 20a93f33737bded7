"""The offline model's answers from a document's text: a question in everyday words finds the clause that answers
it (termination for "get out early", payment for "when do we pay"), never a bare heading."""

from __future__ import annotations

import pytest

from emulator.offline_model import analysis

CONTRACT = """Supply Agreement
This Supply Agreement is between Northwind Ltd and Contoso GmbH.
Term. The agreement runs for two years from the effective date.
Termination. Either party may terminate this agreement with ninety (90) days' written notice.
Fees. Invoices are payable within 30 days of receipt.
Governing Law.
This agreement is governed by the laws of the State of Oregon.
Confidentiality. Each party keeps the other's information secret for five years."""


@pytest.mark.parametrize(("question", "expected"), [
    ("can we walk away from this before it runs out?", "ninety (90) days"),
    ("how do I back out of the deal early?", "ninety (90) days"),
    ("when do we have to pay?", "within 30 days"),
    ("how long after an invoice is money owed?", "within 30 days"),
    ("what law applies to this?", "State of Oregon"),
    ("which jurisdiction governs it?", "State of Oregon"),
    ("for how long must we keep their information confidential?", "five years"),
])
def test_everyday_questions_find_the_clause(question: str, expected: str) -> None:
    found = analysis.answer(CONTRACT, question)
    assert expected in found["answer"], found
    assert found["answer"] != "Governing Law."


def test_a_question_the_text_does_not_answer_says_so() -> None:
    assert analysis.answer(CONTRACT, "what colour is the logo?")["answer"] == "The document does not say."
