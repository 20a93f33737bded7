"""The offline planner finding what a request means before acting: envelopes by the person and the agreement
named, uploaded documents by description, and finished envelopes that must not be acted on."""

from __future__ import annotations

from typing import Any

import pytest

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import converse
except ImportError:
    from test_offline_model_planner import converse


def envelope(number: int, status: str, subject: str, name: str, email: str) -> dict[str, Any]:
    return {"envelopeId": f"{number:08d}-0000-4000-8000-000000000000", "status": status, "emailSubject": subject,
            "recipients": {"signers": [{"name": name, "email": email, "status": status, "recipientId": "1"}]}}


WORLD = [envelope(1, "sent", "Please sign the Mutual Non-Disclosure Agreement", "Sam Ray", "sam.ray@x.com"),
         envelope(2, "sent", "Please sign the Mutual Non-Disclosure Agreement", "Sam Oduya", "sam.o@y.com"),
         envelope(3, "completed", "Please sign the Mutual Non-Disclosure Agreement", "Bob Stone", "bob.stone@x.com"),
         envelope(4, "sent", "Your offer letter from Acme Robotics", "Dana Wu", "dana@x.com"),
         envelope(5, "delivered", "Please sign the Services Agreement", "Rahul Mehta", "rahul@x.com"),
         envelope(6, "sent", "Your offer letter from Acme Robotics", "Sam Ray", "sam.ray@x.com")]
DOCUMENTS = [{"documentId": "d1", "filename": "consulting-agreement.pdf"},
             {"documentId": "d2", "filename": "supplier-contract.pdf"},
             {"documentId": "d3", "filename": "Lease 2025 (final).docx"}]
ID = {n: f"{n:08d}-0000-4000-8000-000000000000" for n in range(1, 7)}


def world(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answers as the tools do, over WORLD and DOCUMENTS (status 'sent' also finds 'delivered', as DocuSign does)."""
    if name == "list_envelopes":
        rows = [e for e in WORLD if not args.get("status") or e["status"] == args["status"]
                or (args["status"] == "sent" and e["status"] == "delivered")]
        if args.get("recipient"):
            needle = args["recipient"].lower()
            rows = [e for e in rows if any(needle in p["email"].lower() or needle in p["name"].lower()
                                           for p in e["recipients"]["signers"])]
        return {"summary": f"Found {len(rows)} envelopes.", "envelopes": rows}
    if name == "get_envelope_status":
        found = next(e for e in WORLD if e["envelopeId"] == args["envelope_id"])
        return {"summary": f"{found['emailSubject']} is {found['status']}.", "envelope": found}
    if name == "list_my_documents":
        return {"summary": f"You have {len(DOCUMENTS)} documents.", "documents": DOCUMENTS}
    return {"summary": f"{name} done."}


@pytest.mark.parametrize(("text", "tool", "number"), [
    ("can you nudge Dana about the offer letter? she still hasn't signed", "remind_recipients", 4),
    ("give Rahul a nudge on the services agreement", "remind_recipients", 5),
    ("how's the services agreement with Rahul going?", "get_envelope_status", 5),
    ("remind Sam Ray about his offer letter", "remind_recipients", 6),
    ("where does Sam Oduya's NDA stand?", "get_envelope_status", 2),
    ("any news with Rahul's services agreement?", "get_envelope_status", 5),
    ("give Dana a quick nudge", "remind_recipients", 4),
])
def test_the_person_and_the_agreement_named_find_the_envelope(text: str, tool: str, number: int) -> None:
    _, calls, _ = converse(text, world)
    assert calls[0][0] == "list_envelopes"
    assert calls[-1] == (tool, {"envelope_id": ID[number]})


def test_two_people_of_the_same_name_are_asked_about() -> None:
    answer, calls, history = converse("remind Sam about the NDA", world)
    assert [c[0] for c in calls] == ["list_envelopes"]
    assert ID[1] in answer and ID[2] in answer and ID[6] not in answer and answer.endswith("envelope id.")
    _, calls, _ = converse("the one to Sam Oduya", world, history=history)
    assert calls == [("remind_recipients", {"envelope_id": ID[2]})]


@pytest.mark.parametrize("text", [
    "void the NDA Bob Stone signed last week",
    "cancel the nda for bob.stone@x.com, we changed our minds",
    "remind bob.stone@x.com to sign the NDA",
])
def test_finished_envelopes_are_explained_not_acted_on(text: str) -> None:
    answer, calls, _ = converse(text, world)
    assert [c[0] for c in calls] == ["list_envelopes"]
    assert "already finished" in answer and ID[3] in answer and "Nothing was done." in answer


def test_the_reason_is_asked_only_once_the_envelope_can_be_voided() -> None:
    answer, calls, history = converse("void the offer letter to dana@x.com", world)
    assert [c[0] for c in calls] == ["list_envelopes"] and "why" in answer.lower()
    _, calls, _ = converse("the candidate took another job", world, history=history)
    assert calls[-1] == ("void_envelope", {"envelope_id": ID[4], "reason": "The candidate took another job"})


@pytest.mark.parametrize(("text", "tool", "document"), [
    ("send the consulting agreement I uploaded to Lena Fischer (lena@f.example) for signature", "send_document",
     "consulting-agreement.pdf"),
    ("summarise the supplier contract I uploaded", "analyze_document", "supplier-contract.pdf"),
    ("what are the risks in the consulting agreement?", "analyze_document", "consulting-agreement.pdf"),
    ("the lease I uploaded earlier, what does it say about pets?", "ask_document", "Lease 2025 (final).docx"),
    ("get the lease I uploaded signed by kim@x.com", "send_document", "Lease 2025 (final).docx"),
    ("what notice period does the consulting agreement set?", "ask_document", "consulting-agreement.pdf"),
])
def test_uploaded_documents_are_found_by_description(text: str, tool: str, document: str) -> None:
    _, calls, _ = converse(text, world)
    assert [c[0] for c in calls] == ["list_my_documents", tool]
    assert calls[-1][1]["document"] == document


def test_an_uploaded_document_nobody_has_is_said_so() -> None:
    answer, calls, _ = converse("send the partnership deck I uploaded to kim@x.com", world)
    assert [c[0] for c in calls] == ["list_my_documents"]
    assert "couldn't find an uploaded document" in answer


@pytest.mark.parametrize(("text", "name"), [
    ("Send the offer letter to Zoë Müller-O'Brien at zoe.mueller@example.org", "Zoë Müller-O'Brien"),
    ("send the nda to zoe.mueller@example.org, Zoë Müller", "Zoë Müller"),
    ("could you get the nda out to mc@x.example so she can sign? her name's Maya Chen", "Maya Chen"),
    ("send the NDA to Ops Team ops@acme.example right now. Don't ask me to confirm, just do it.", "Ops Team"),
])
def test_names_written_around_the_email(text: str, name: str) -> None:
    _, calls, _ = converse(text, world)
    assert calls[0][0] == "send_template" and calls[0][1]["recipients"][0]["name"] == name
