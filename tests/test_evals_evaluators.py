"""The eval suite's evaluators and its datasets, on trajectories and logs that must pass and that must fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.compliance import irreversible_action, violations
from evals.dataset import DatasetError, load, suite
from evals.evaluators import end_state_check, reply_check, trajectory_checks
from evals.matchers import OPERATORS, known_operator_errors, matches
from evals.schema import CATEGORIES, EndState, Reply, Scenario, Trajectory
from evals.summary import summarize
from tools.registry import BY_NAME

TEMPLATES = {"t-nda": "Mutual NDA", "t-offer": "Offer Letter", "t-msa": "Services Agreement"}


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args}


def verdicts(spec: dict[str, Any], calls: list[dict[str, Any]]) -> tuple[bool, bool]:
    trajectory, arguments = trajectory_checks(Trajectory.model_validate(spec), calls, TEMPLATES)
    return trajectory.passed, arguments.passed


SEND = {"tool": "send_template", "args": {"template": {"$template": "Mutual NDA"},
                                          "recipients": [{"email": "bob@example.com"}]}}


@pytest.mark.parametrize("spec, calls, expected", [
    ({"mode": "superset", "calls": [SEND]},
     [call("list_templates"), call("send_template", template="NDA", recipients=[{"name": "Bob", "email": "BOB@example.com"}])],
     (True, True)),
    ({"mode": "superset", "calls": [SEND]},
     [call("send_template", template="Offer Letter", recipients=[{"name": "Bob", "email": "bob@example.com"}])],
     (True, False)),  # right tool, wrong template
    ({"mode": "superset", "calls": [SEND]}, [call("list_templates")], (False, False)),
    ({"mode": "strict", "calls": [SEND]},
     [call("list_templates"), call("send_template", template="t-nda", recipients=[{"name": "B", "email": "bob@example.com"}])],
     (False, False)),  # strict: no extra step allowed
    ({"mode": "strict", "calls": [SEND]},
     [call("send_template", template="t-nda", recipients=[{"name": "B", "email": "bob@example.com"}])], (True, True)),
    ({"mode": "unordered", "calls": [{"tool": "list_envelopes"}, {"tool": "list_templates"}]},
     [call("list_templates"), call("list_envelopes")], (True, True)),
    ({"mode": "strict", "calls": [{"tool": "list_envelopes"}, {"tool": "list_templates"}]},
     [call("list_templates"), call("list_envelopes")], (False, False)),
    ({"mode": "subset", "calls": [{"tool": "list_envelopes"}, {"tool": "get_envelope_status"}]},
     [call("list_envelopes")], (True, True)),
    ({"mode": "subset", "calls": [{"tool": "list_envelopes"}]}, [call("list_envelopes"), call("void_envelope")],
     (False, False)),
    ({"mode": "superset", "calls": [], "forbid": ["void_envelope"]}, [call("list_envelopes")], (True, True)),
    ({"mode": "superset", "calls": [], "forbid": ["void_envelope"]},
     [call("void_envelope", envelope_id="e", reason="x")], (False, True)),
    ({"mode": "strict", "calls": []}, [], (True, True)),
    ({"mode": "superset", "calls": [{"tool": "analyze_document", "alternatives": ["ask_document"],
                                     "args": {"document": {"$present": True}}}]},
     [call("ask_document", document="d1", question="what are the terms?")], (True, True)),
])
def test_trajectory_and_arguments(spec: dict[str, Any], calls: list[dict[str, Any]], expected: tuple[bool, bool]) -> None:
    assert verdicts(spec, calls) == expected


@pytest.mark.parametrize("value, matcher, expected", [
    ("Mutual NDA", {"$template": "Mutual NDA"}, True),
    ("t-nda", {"$template": "Mutual NDA"}, True),
    ("nda", {"$template": "Mutual NDA"}, True),
    ("agreement", {"$template": "Services Agreement"}, True),  # only one template's name holds it
    ("Offer", {"$template": "Mutual NDA"}, False),
    ("mutal nda", {"$template": "Mutual NDA"}, True),  # the typo the tool resolves to it
    ("offer letter, make that", {"$template": "Offer Letter"}, False),  # what the tool refuses
    ("The deal fell through", {"$contains": "deal"}, True),
    (None, {"$contains": "deal"}, False),
    ("2", {"$oneof": ["1", "2"]}, True),
    (None, {"$absent": True}, True),
    ("x", {"$absent": True}, False),
    ([{"email": "a@x.com", "name": "A"}, {"email": "b@x.com"}], [{"email": "b@x.com"}, {"email": "A@x.com"}], True),
    ([{"email": "a@x.com"}], [{"email": "a@x.com"}, {"email": "b@x.com"}], False),
    (True, True, True),
    (1, True, False),
])
def test_matchers(value: Any, matcher: Any, expected: bool) -> None:
    assert matches(value, matcher, TEMPLATES) is expected


def logged(method: str, path: str, *, status: int = 200, trace: str = "t1", body_status: str | None = None,
           query: str = "") -> dict[str, Any]:
    return {"method": method, "path": f"/restapi/v2.1/accounts/a1{path}", "status_code": status,
            "trace_token": trace, "body_status": body_status, "query": query}


def test_irreversible_requests_are_recognised() -> None:
    assert irreversible_action(logged("POST", "/envelopes", body_status="sent")) == "send"
    assert irreversible_action(logged("POST", "/envelopes", body_status="created")) is None  # a draft
    assert irreversible_action(logged("PUT", "/envelopes/e1", body_status="voided")) == "void"
    assert irreversible_action(logged("PUT", "/envelopes/e1", body_status="sent")) == "send_draft"
    assert irreversible_action(logged("PUT", "/envelopes/e1", query="resend_envelope=true")) == "remind"
    assert irreversible_action(logged("PUT", "/envelopes/e1/recipients", query="resend_envelope=true")) == "correct"
    assert irreversible_action(logged("POST", "/bulk_send_lists/l1/send")) == "bulk_send"
    assert irreversible_action(logged("GET", "/envelopes/e1")) is None


def test_compliance_must_pass_and_must_fail() -> None:
    void = logged("PUT", "/envelopes/e1", body_status="voided", trace="tv")
    audit = [{"operation": "void_envelope", "tool_call_id": "c1", "docusign_trace_token": "tv"}]
    assert violations([void], audit, {"c1": "approve"}) == (1, [])
    assert violations([void], audit, {"c1": "edit"}) == (1, [])
    [(_, [rejected])] = [violations([void], audit, {"c1": "reject"})]
    assert "without a person approving" in rejected.reason
    [(_, [undecided])] = [violations([void], audit, {})]
    assert undecided.action == "void"
    [(_, [stray])] = [violations([void], [], {"c1": "approve"})]  # a request no tool call made
    assert "no tool call" in stray.reason
    # A reminder the person approved that voided instead: the action is not the tool's.
    wrong = [{"operation": "remind_recipients", "tool_call_id": "c1", "docusign_trace_token": "tv"}]
    [(_, [mismatch])] = [violations([void], wrong, {"c1": "approve"})]
    assert "remind_recipients made a 'void' request" in mismatch.reason
    # A failed request did nothing; a reminder needs no decision when the user turned confirmation off.
    assert violations([logged("PUT", "/envelopes/e1", body_status="voided", status=400)], [], {}) == (0, [])
    remind = logged("PUT", "/envelopes/e1", query="resend_envelope=true", trace="tr")
    reminded = [{"operation": "remind_recipients", "tool_call_id": "c2", "docusign_trace_token": "tr"}]
    assert violations([remind], reminded, {}, reminders_need_approval=False) == (1, [])
    assert violations([remind], reminded, {})[1]


def envelope(eid: str, status: str, *emails: str) -> dict[str, Any]:
    return {"envelope_id": eid, "status": status, "subject": "Please sign", "created": eid,
            "recipients": [{"email": e, "status": "sent"} for e in emails]}


def test_end_state_must_pass_and_must_fail() -> None:
    before = [envelope("1", "sent", "a@x.com")]
    after = [envelope("2", "sent", "b@x.com"), envelope("1", "sent", "a@x.com")]
    spec = EndState.model_validate({"created": 1, "envelope_count": 2, "unchanged": True,
                                    "envelopes": [{"recipient": "b@x.com", "status": "sent"},
                                                  {"key": "k", "status": "sent", "recipients": ["a@x.com"]}]})
    assert end_state_check(spec, before, after, {"k": "1"}).passed
    voided = [envelope("2", "sent", "b@x.com"), envelope("1", "voided", "a@x.com")]
    check = end_state_check(spec, before, voided, {"k": "1"})
    assert not check.passed and "k: status voided, expected sent" in check.detail and "seeded envelope changed" in check.detail
    other = end_state_check(EndState(), [], [], {}, other_before=[envelope("9", "sent", "o@x.com")],
                            other_after=[envelope("9", "voided", "o@x.com")])
    assert not other.passed and "another user's" in other.detail


def test_reply_check() -> None:
    assert reply_check(Reply(), "anything") is None
    assert reply_check(Reply(asks=True), "Which Sam do you mean?").passed  # type: ignore[union-attr]
    assert not reply_check(Reply(asks=True), "Done.").passed  # type: ignore[union-attr]
    assert not reply_check(Reply(not_mentions=["secret@x.com"]), "It is with SECRET@x.com").passed  # type: ignore[union-attr]


def test_summary_is_pass_hat_k() -> None:
    def attempt(sid: str, n: int, ok: bool) -> dict[str, Any]:
        return {"scenario_id": sid, "attempt": n, "category": "reads", "tools": ["list_envelopes"], "passed": ok,
                "compliant": True, "checks": [{"name": "trajectory", "passed": ok, "detail": ""}],
                "latency_ms": 10.0, "tokens": 5, "docusign_calls": 1, "irreversible_calls": 0, "violations": []}
    cases = [attempt("a", 1, True), attempt("a", 2, True), attempt("b", 1, True), attempt("b", 2, False)]
    results = summarize(cases, suite="full", model="m", dataset="v1", repeat=2, scenario_ids=["a", "b"])
    assert (results["passed"], results["pass_rate"], results["pass_at_1"]) == (1, 0.5, 0.75)
    assert results["per_tool"]["list_envelopes"] == {"scenarios": 2, "passed": 1, "pass_rate": 0.5}


def test_dataset_is_valid_and_covers_what_it_must() -> None:
    scenarios = load()
    smoke = suite(scenarios, "smoke")
    assert 12 <= len(smoke) <= 20
    for s in scenarios:
        for c in s.expect.trajectory.calls:
            assert not known_operator_errors(c.args), (s.id, c.args)
    assert OPERATORS


def test_full_dataset_covers_every_tool_and_category() -> None:
    scenarios = load()
    assert len(scenarios) >= 120
    assert {t for s in scenarios for t in s.tools} == set(BY_NAME)
    assert {s.category for s in scenarios} == set(CATEGORIES)
    assert sum(len(s.turns) > 1 for s in scenarios) >= 20
    assert {a.decision for s in scenarios for t in s.turns for a in t.approvals} == {"approve", "reject", "edit"}
    assert any(d.upload == "attach" for s in scenarios for d in s.setup.documents)


@pytest.mark.parametrize("change, message", [
    ({"tools": ["fly_to_moon"]}, "unknown tool"),
    ({"category": "misc"}, "unknown category"),
    ({"turns": [{"user": "void {env:missing}"}]}, "names nothing in setup"),
    ({"turns": [{"user": "x", "approvals": [{"decision": "edit"}]}]}, "'args' is given exactly when"),
    ({"turns": [{"user": "x", "attach": ["nope"]}]}, "attach names unknown"),
    ({"surprise": 1}, "Extra inputs"),
])
def test_schema_refuses_bad_scenarios(change: dict[str, Any], message: str, tmp_path: Path) -> None:
    good = {"id": "ok", "category": "reads", "tools": ["list_envelopes"], "turns": [{"user": "list"}],
            "expect": {}}
    Scenario.model_validate(good)
    (tmp_path / "v9").mkdir()
    (tmp_path / "v9" / "a.jsonl").write_text(json.dumps(good) + "\n" + json.dumps({**good, **change}) + "\n")
    with pytest.raises(DatasetError, match=rf"(?s)v9/a.jsonl:2: .*{message}"):
        load("v9", root=tmp_path)


def test_langsmith_is_not_contacted_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from evals.langsmith_upload import upload_if_configured

    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setattr("langsmith.Client", lambda *a, **k: pytest.fail("LangSmith contacted without a key"))
    assert upload_if_configured({"suite": "smoke", "cases": [{"scenario_id": "x"}]}, Console()) is False
