"""A void, reminder or correction on an envelope named by id reads its state first: a finished envelope, or one
the person cannot see, is explained and nothing irreversible is asked for."""

from __future__ import annotations

import pytest

try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_planner import converse, envelope
    from tests.test_offline_model_support import GUID, GUID2
except ImportError:
    from test_offline_model_planner import converse, envelope
    from test_offline_model_support import GUID, GUID2

IRREVERSIBLE = {"void_envelope", "remind_recipients", "correct_recipient"}


def reads_as(status: str):
    def respond(name: str, args: dict) -> dict:
        assert name not in IRREVERSIBLE, f"{name} was attempted on a {status} envelope"
        assert name == "get_envelope_status"
        return {"summary": f"The envelope is {status}.",
                "envelope": envelope(args["envelope_id"], status, "Consulting agreement", ("Ann Po", "ann@x.com", status))}
    return respond


@pytest.mark.parametrize(("text", "status", "words"), [
    (f"please cancel {GUID}, the project was shelved", "completed", "can't be voided"),
    (f"void envelope {GUID} because we sent the wrong version", "voided", "can't be voided"),
    (f"cancle {GUID} bc the client backed out", "completed", "can't be voided"),
    (f"ping the signer on {GUID} again", "completed", "can't be reminded"),
    (f"can you chase whoever is left on {GUID}?", "declined", "can't be reminded"),
    (f"update the recipient email on {GUID} to ann.new@x.com", "completed", "can't be corrected"),
    (f"ann@x.com on {GUID} was a typo, it should be ann.po@x.com", "completed", "can't be corrected"),
])
def test_finished_envelope_by_id_is_explained(text: str, status: str, words: str) -> None:
    answer, calls, _ = converse(text, reads_as(status))
    assert [name for name, _ in calls] == ["get_envelope_status"]
    assert words in answer and status in answer and "Nothing was done." in answer


@pytest.mark.parametrize("text", [
    f"void {GUID}, duplicate of another one",
    f"nudge the people on {GUID}",
    f"change the signer on {GUID} to someone@x.com",
])
def test_envelope_the_person_cannot_see_is_not_acted_on(text: str) -> None:
    def respond(name: str, args: dict) -> dict:
        assert name == "get_envelope_status", f"{name} was attempted on an envelope the user cannot see"
        return {"error": "not_found", "message": f"envelope_id: there is no envelope {args['envelope_id']} in your account."}

    answer, calls, _ = converse(text, respond)
    assert [name for name, _ in calls] == ["get_envelope_status"]
    assert "no envelope" in answer and "Nothing was done." in answer


def test_envelope_still_out_is_acted_on_after_reading_it() -> None:
    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            return {"summary": "Sent.", "envelope": envelope(args["envelope_id"], "sent", "NDA", ("Ann Po", "ann@x.com", "sent"))}
        return {"summary": "Sent a reminder to Ann Po (ann@x.com)."}

    answer, calls, _ = converse(f"give the signers of {GUID} a nudge", respond)
    assert [name for name, _ in calls] == ["get_envelope_status", "remind_recipients"]
    assert calls[1][1] == {"envelope_id": GUID} and "Ann Po" in answer


def test_only_the_envelopes_still_out_are_acted_on() -> None:
    statuses = {GUID: "completed", GUID2: "sent"}

    def respond(name: str, args: dict) -> dict:
        if name == "get_envelope_status":
            status = statuses[args["envelope_id"]]
            return {"summary": status, "envelope": envelope(args["envelope_id"], status, "NDA", ("Ann", "ann@x.com", status))}
        assert args["envelope_id"] == GUID2
        return {"summary": f"Sent a reminder for {args['envelope_id']}."}

    answer, calls, _ = converse(f"remind {GUID} and {GUID2}", respond)
    assert [name for name, _ in calls] == ["get_envelope_status", "get_envelope_status", "remind_recipients"]
    assert "can't be reminded" in answer and f"Sent a reminder for {GUID2}" in answer


def test_state_shown_earlier_in_the_conversation_is_not_read_again() -> None:
    listed = {"summary": "Found 1.", "envelopes": [envelope(GUID, "completed", "NDA", ("Ann", "ann@x.com", "completed"))]}
    _, _, history = converse("list my envelopes", lambda name, args: listed)
    answer, calls, _ = converse(f"void {GUID} because it is outdated",
                                lambda name, args: pytest.fail(f"{name} should not be called"), history=history)
    assert not calls and "can't be voided" in answer
