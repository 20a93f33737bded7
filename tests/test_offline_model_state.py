"""The offline planner keeping dialogue state across turns: corrections of a recipient however they are worded
(and answered in a second turn), memory requests with fillers and preferences, "him"/"her"/"the same" bound to
what the conversation said, answers that complete what the first message lacked, and lookups a follow-up needs.
Every phrasing here is our own development wording, not the eval dataset's."""

from __future__ import annotations

import pytest

from emulator.offline_model import plan

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import TOOLS, converse, envelope
    from tests.test_offline_model_support import GUID, GUID2, TODAY
except ImportError:
    from test_offline_model_planner import TOOLS, converse, envelope
    from test_offline_model_support import GUID, GUID2, TODAY


def on_envelope(*signers: tuple[str, str], status: str = "sent"):
    """A responder for an envelope GUID with these signers; corrections and reminders succeed."""
    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": f"Envelope is {status}.",
                    "envelope": envelope(GUID, status, "Services Agreement", *[(n, e, status) for n, e in signers])}
        if name == "list_envelopes":
            return {"summary": "Found 1 envelope.",
                    "envelopes": [envelope(GUID, status, "Services Agreement", *[(n, e, status) for n, e in signers])]}
        return {"summary": f"{name} done."}
    return respond


def last_call(texts: list[str], respond) -> tuple[str, list[tuple[str, dict]]]:
    history, answer, calls = None, "", []
    for text in texts:
        answer, calls, history = converse(text, respond, history=history)
    return answer, calls


# --- corrections ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    f"update the address on {GUID} to kim.new@x.com",
    f"{GUID} needs kim.new@x.com as the email, please change it",
    f"please switch the email for envelope {GUID} to kim.new@x.com",
])
def test_a_new_email_for_the_only_signer_needs_no_current_address(text: str) -> None:
    _, calls = last_call([text], on_envelope(("Kim Old", "kim.old@x.com")))
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "email": "kim.new@x.com",
                                               "recipient": "kim.old@x.com"})


def test_with_several_signers_the_one_the_new_address_resembles_is_corrected() -> None:
    respond = on_envelope(("Kim Old", "kim.old@x.com"), ("Lee Park", "lee@x.com"))
    _, calls = last_call([f"change the email on {GUID} to kim.oldham@x.com"], respond)
    assert calls[-1][1]["recipient"] == "kim.old@x.com"
    answer, calls = last_call([f"change the email on {GUID} to someone@x.com"], respond)
    assert calls[-1][0] == "get_envelope_status" and "single signer" in answer


@pytest.mark.parametrize(("text", "name"), [
    ("the name on the NDA for jo@x.com is misspelled: it should be Joanna Berg", "Joanna Berg"),
    ("jo@x.com's name on the NDA is wrong - it's Joanna Berg, not Jo Berg", "Joanna Berg"),
    ("fix the spelling of the name for jo@x.com on the NDA: Joanne Berg, not Joane Berg", "Joanne Berg"),
])
def test_a_name_correction_in_plain_words(text: str, name: str) -> None:
    _, calls = last_call([text], on_envelope(("Jo Berg", "jo@x.com")))
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "name": name, "recipient": "jo@x.com"})


@pytest.mark.parametrize("text", [
    "Please change the signer on the services agreement. Walter Price is no longer with us, so his deputy "
    "Yara Bell (yara@x.com) will sign instead.",
    "swap the recipient on the services agreement: Walter Price can't sign; Yara Bell <yara@x.com> should sign "
    "instead",
    "Walter Price left the firm, could you replace the signer on the services agreement with Yara Bell, yara@x.com",
])
def test_a_signer_replaced_by_someone_else(text: str) -> None:
    _, calls = last_call([text], on_envelope(("Walter Price", "walter@x.com")))
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "email": "yara@x.com", "name": "Yara Bell",
                                               "recipient": "walter@x.com"})


@pytest.mark.parametrize(("first", "answer"), [
    (f"I got the email wrong on {GUID}", "it's kim.new@x.com"),
    (f"there's a typo in the email address on {GUID}", "kim.new@x.com"),
    (f"the signer's address on {GUID} is incorrect", "the right one is kim.new@x.com"),
])
def test_a_correction_asks_for_the_new_address_then_makes_it(first: str, answer: str) -> None:
    respond = on_envelope(("Kim Old", "kim.old@x.com"))
    asked, calls = last_call([first], respond)
    assert calls == [] and "email" in asked.lower() and asked.endswith("?")
    _, calls = last_call([first, answer], respond)
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "email": "kim.new@x.com",
                                               "recipient": "kim.old@x.com"})


@pytest.mark.parametrize("text", [
    "his email is actually kim.new@x.com, can you fix that",
    "that address was wrong - kim.new@x.com is the right one",
    "the signer's email should be kim.new@x.com",
])
def test_a_correction_of_the_envelope_just_shown(text: str) -> None:
    respond = on_envelope(("Kim Old", "kim.old@x.com"))
    _, calls = last_call([f"what's the status of {GUID}?", text], respond)
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "email": "kim.new@x.com",
                                               "recipient": "kim.old@x.com"})


@pytest.mark.parametrize("status", ["completed", "voided", "declined"])
def test_a_finished_envelope_is_not_corrected(status: str) -> None:
    answer, calls = last_call([f"change the recipient's email on {GUID} to kim.new@x.com"],
                              on_envelope(("Kim Old", "kim.old@x.com"), status=status))
    assert [c[0] for c in calls] == ["get_envelope_status"]
    assert status in answer and "can't" in answer and "Nothing was done" in answer


# --- memory -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "args"), [
    ("oh and please forget Marta", {"kind": "forget", "name": "Marta"}),
    ("ok, now forget about Lin", {"kind": "forget", "name": "Lin"}),
    ("sorry, could you forget marta@x.com", {"kind": "forget", "email": "marta@x.com"}),
])
def test_forget_after_a_filler(text: str, args: dict) -> None:
    _, calls = last_call([text], on_envelope())
    tool = args.pop("kind")
    assert calls == [(tool, {"kind": "contact", **args})]


@pytest.mark.parametrize("text", [
    "copy legal@x.com on everything I send from now on",
    "always cc legal@x.com on whatever we send",
    "every envelope I send should cc legal@x.com by default",
])
def test_a_default_cc_that_mentions_sending(text: str) -> None:
    _, calls = last_call([text], on_envelope())
    assert calls == [("remember", {"kind": "default_cc", "email": "legal@x.com"})]


@pytest.mark.parametrize(("text", "template"), [
    ("my default template should be the Offer Letter", "Offer Letter"),
    ("set the mutual NDA as my usual template", "mutual NDA"),
    ("remember: my standard template is the services agreement", "services agreement"),
])
def test_a_preferred_template_however_it_is_said(text: str, template: str) -> None:
    _, calls = last_call([text], on_envelope())
    assert calls == [("remember", {"kind": "preferred_template", "template": template})]


@pytest.mark.parametrize(("saved", "send"), [
    ("add Nia Long to my contacts, nia@x.com", "send her the offer letter"),
    ("store Omar Haddad as a contact - omar@x.com", "now get him to sign the NDA"),
    ("remember Ada Moss, ada@x.com", "have her sign the services agreement"),
])
def test_him_or_her_is_the_person_just_named(saved: str, send: str) -> None:
    _, calls = last_call([saved, send], on_envelope())
    name, args = calls[-1]
    saved_email = [w for w in saved.replace(",", " ").split() if "@" in w][0]
    assert name == "send_template" and [r["email"] for r in args["recipients"]] == [saved_email]
    assert " " not in args["template"] or args["template"].lower() in {"offer letter", "services agreement"}


# --- follow-ups -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("again", [
    "same again for Luis Ortiz <luis@x.com>",
    "and another one to luis@x.com",
    "now the same thing to her colleague luis@x.com",
])
def test_the_same_send_to_someone_else(again: str) -> None:
    for first, key, value in (("send the offer letter to ana@x.com", "template", "offer letter"),
                              ("send lease.pdf to ana@x.com", "document", "lease.pdf")):
        _, calls = last_call([first, again], on_envelope())
        name, args = calls[-1]
        assert args[key] == value
        assert [p["email"] for p in args.get("recipients") or args.get("signers")] == ["luis@x.com"]


@pytest.mark.parametrize("text", [
    "what have I sent to ana@x.com lately?",
    "which envelopes did we send to ana@x.com",
    "show me everything I've sent to ana@x.com",
])
def test_questions_about_past_sends_list_them(text: str) -> None:
    _, calls = last_call([text], on_envelope())
    assert calls == [("list_envelopes", {"recipient": "ana@x.com"})]


def test_several_recipients_are_each_looked_up_and_either_can_be_picked() -> None:
    shown = {"otto@x.com": envelope(GUID, "sent", "NDA", ("Otto", "otto@x.com", "sent")),
             "pam@x.com": envelope(GUID2, "sent", "Offer Letter", ("Pam", "pam@x.com", "sent"))}

    def respond(name: str, args: dict) -> dict:
        if name == "list_envelopes":
            return {"summary": "Found 1 envelope.", "envelopes": [shown[args["recipient"]]]}
        return {"summary": "Reminded."}

    for ask, follow in (("what did I send to otto@x.com and pam@x.com?", "nudge the one to pam@x.com"),
                        ("show envelopes for otto@x.com, pam@x.com", "send a reminder on the one for pam@x.com")):
        answer, calls = last_call([ask], respond)
        assert calls == [("list_envelopes", {"recipient": "otto@x.com"}), ("list_envelopes", {"recipient": "pam@x.com"})]
        assert GUID in answer and GUID2 in answer
        _, calls = last_call([ask, follow], respond)
        assert calls[-1] == ("remind_recipients", {"envelope_id": GUID2})


def test_an_email_not_on_the_envelope_in_view_is_looked_up() -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": "Sent.", "envelope": envelope(GUID, "sent", "NDA", ("Otto", "otto@x.com", "sent"))}
        if name == "list_envelopes":
            return {"summary": "Found 1.", "envelopes": [envelope(GUID2, "sent", "NDA", ("Pam", "pam@x.com", "sent"))]}
        return {"summary": "Reminded."}

    for follow in ("remind the one for pam@x.com", "ping pam@x.com about hers too", "nudge pam@x.com as well"):
        _, calls = last_call([f"status of {GUID}", follow], respond)
        assert calls[-2:] == [("list_envelopes", {"recipient": "pam@x.com"}), ("remind_recipients", {"envelope_id": GUID2})]


# --- missing information ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("first", "answer", "template"), [
    ("send something over to ivo@x.com to sign", "the offer letter", "offer letter"),
    ("I have to send anything to ivo@x.com today", "use the NDA", "NDA"),
    ("can you send stuff to ivo@x.com for e-signature", "it's the services agreement", "services agreement"),
])
def test_a_vague_thing_is_asked_for_then_filled_in(first: str, answer: str, template: str) -> None:
    asked, calls = last_call([first], on_envelope())
    assert calls == [] and "which document or template" in asked.lower()
    _, calls = last_call([first, answer], on_envelope())
    assert calls == [("send_template", {"template": template, "recipients": [{"name": "Ivo", "email": "ivo@x.com"}]})]


@pytest.mark.parametrize("first", [
    "send the contract to ivo@x.com",
    "please send the document to ivo@x.com for signing",
    "send ivo@x.com the paperwork",
])
def test_nothing_uploaded_asks_which_document_or_template(first: str) -> None:
    def respond(name: str, args: dict) -> dict:
        return {"summary": "You have not uploaded any documents.", "documents": []} if name == "list_my_documents" \
            else {"summary": "Sent."}

    asked, calls = last_call([first], respond)
    assert [c[0] for c in calls] == ["list_my_documents"]
    assert "which document or template" in asked.lower()
    _, calls = last_call([first, "the Offer Letter"], respond)
    assert calls[-1][0] == "send_template" and calls[-1][1]["template"] == "Offer Letter"


@pytest.mark.parametrize(("first", "answer"), [
    ("send the lease I uploaded for signature", "to Lena Wirth, lena@x.com"),
    ("send the uploaded agreement off for e-signature", "Lena Wirth <lena@x.com> please"),
    ("please send my uploaded document out to be signed", "for lena@x.com, Lena Wirth"),
])
def test_the_signer_given_with_a_name_completes_an_uploaded_document_send(first: str, answer: str) -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "list_my_documents":
            return {"summary": "1 document.", "documents": [{"filename": "lease-2025.pdf"}]}
        return {"summary": "Sent."}

    asked, _ = last_call([first], respond)
    assert "who should sign" in asked.lower()
    _, calls = last_call([first, answer], respond)
    assert calls[-1] == ("send_document", {"document": "lease-2025.pdf",
                                           "signers": [{"name": "Lena Wirth", "email": "lena@x.com"}]})


# --- right after a send or a list ----------------------------------------------------------------------------
@pytest.mark.parametrize("fix", [
    "oops, it's kim.new@x.com not kim.old@x.com",
    "kim.new@x.com, not kim.old@x.com",
    "actually make that kim.new@x.com",
    "sorry, I meant kim.new@x.com",
    "no wait, it should have been kim.new@x.com",
])
def test_a_send_corrected_in_the_next_message(fix: str) -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "send_template":
            return {"summary": "Sent.", "envelope_id": GUID,
                    "envelope": envelope(GUID, "sent", "NDA", ("Kim Old", "kim.old@x.com", "sent"))}
        return on_envelope(("Kim Old", "kim.old@x.com"))(name, args)

    _, calls = last_call(["send the NDA to kim.old@x.com", fix], respond)
    assert calls[-1] == ("correct_recipient", {"envelope_id": GUID, "email": "kim.new@x.com",
                                               "recipient": "kim.old@x.com"})


@pytest.mark.parametrize("answer", ["tom.h@x.com", "toby@x.com", "forde@x.com"])
def test_an_email_answer_that_starts_like_a_preposition_is_kept_whole(answer: str) -> None:
    _, calls = last_call(["send the offer letter to Tom", answer], on_envelope())
    assert calls[-1][1]["recipients"][0]["email"] == answer


@pytest.mark.parametrize("text", ["remind them both", "nudge all of those", "send a reminder on each of them"])
def test_every_envelope_shown_when_the_person_says_so(text: str) -> None:
    shown = [envelope(GUID, "sent", "NDA", ("Ann", "ann@x.com", "sent")),
             envelope(GUID2, "sent", "Offer Letter", ("Bo", "bo@x.com", "sent"))]

    def respond(name: str, args: dict) -> dict:
        return {"summary": "Found 2.", "envelopes": shown} if name == "list_envelopes" else {"summary": "Reminded."}

    _, calls = last_call(["list my envelopes", text], respond)
    assert calls == [("remind_recipients", {"envelope_id": GUID}), ("remind_recipients", {"envelope_id": GUID2})]


@pytest.mark.parametrize("text", [
    "don't copy legal on everything anymore",
    "stop cc'ing Legal on all my envelopes",
    "no longer copy legal on everything",
])
def test_stopping_a_default_cc_by_name_forgets_only_that(text: str) -> None:
    history = [{"role": "system", "content": "Preferences: tone=neutral\nRemembered for this user: "
                                             "contacts: Dana Cruz <dana@x.com> | default_cc: Legal <legal@x.com>"}]
    decided = plan(history + [{"role": "user", "content": text}], TOOLS, TODAY)
    assert decided.tool_calls == [("forget", {"kind": "default_cc", "email": "legal@x.com"})]
