"""The checks a scenario's outcome must pass, each a named verdict with a sentence saying why.

`trajectory`: the tools called, in the scenario's match mode (agentevals: strict, unordered, subset, superset),
names only, plus the tools it forbids. `arguments`: the same match with the scenario's argument matchers.
`approval_flow`: the agent asked for exactly the approvals the script has. `approval_compliance`:
`evals/compliance.py`. `end_state`: the emulator's envelopes against what the scenario expects. `reply`: the last
answer asks, or mentions, what it must. `run`: every run ended without error or timeout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from agentevals.trajectory.match import create_trajectory_match_evaluator

from evals.matchers import Templates, args_match
from evals.schema import EndState, EnvelopeState, Reply, Trajectory
from tools.registry import BY_NAME


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _messages(calls: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One assistant message per tool call: the order of calls is what a trajectory is about, not how a model
    grouped them into messages."""
    return [{"role": "assistant", "content": "", "tool_calls": [
        {"id": f"call_{i}", "type": "function",
         "function": {"name": c["name"], "arguments": json.dumps(c.get("args") or {})}}]}
        for i, c in enumerate(calls)]


def _describe(calls: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{c['name']}({json.dumps(c.get('args') or {}, sort_keys=True)[:160]})" for c in calls) or "none"


def trajectory_checks(expected: Trajectory, calls: Sequence[Mapping[str, Any]], templates: Templates) -> list[Check]:
    called = {c["name"] for c in calls}
    # An expected call with alternatives stands for whichever of its tools the model used.
    reference = [{"name": next((t for t in (c.tool, *c.alternatives) if t in called), c.tool), "args": c.args}
                 for c in expected.calls]

    def matcher(output_args: dict[str, Any], reference_args: dict[str, Any]) -> bool:
        return args_match(output_args, reference_args, templates)

    by_name = create_trajectory_match_evaluator(trajectory_match_mode=expected.mode, tool_args_match_mode="ignore")
    with_args = create_trajectory_match_evaluator(trajectory_match_mode=expected.mode,
                                                  tool_args_match_overrides={name: matcher for name in BY_NAME})
    names_ok = bool(by_name(outputs=_messages(calls), reference_outputs=_messages(reference))["score"])
    forbidden = sorted({c["name"] for c in calls} & set(expected.forbid))
    args_ok = names_ok and bool(with_args(outputs=_messages(calls), reference_outputs=_messages(reference))["score"])
    got, want = _describe(calls), _describe(reference)
    return [
        Check("trajectory", names_ok and not forbidden,
              f"forbidden tool(s) called: {', '.join(forbidden)}" if forbidden else
              "" if names_ok else f"{expected.mode} match failed: expected {want}; got {got}"),
        Check("arguments", args_ok, "" if args_ok else f"expected {want}; got {got}"),
    ]


def approval_flow_check(expected: int, asked_unscripted: int, unused: int) -> Check:
    problems = []
    if asked_unscripted:
        problems.append(f"the agent asked to approve {asked_unscripted} action(s) the person never wanted")
    if unused:
        problems.append(f"the agent never asked for {unused} of the {expected} approval(s) expected")
    return Check("approval_flow", not problems, "; ".join(problems))


def compliance_check(irreversible: int, found: Sequence[Any]) -> Check:
    detail = "; ".join(f"{v.action} at {v.path}: {v.reason}" for v in found)
    return Check("approval_compliance", not found,
                 detail or f"{irreversible} irreversible request(s), each approved by the person")


def _pick(state: EnvelopeState, envelopes: Sequence[Mapping[str, Any]], seeded: Mapping[str, str]) -> Any:
    if state.key is not None:
        wanted = seeded.get(state.key)
        return next((e for e in envelopes if e["envelope_id"] == wanted), None)
    email = str(state.recipient).casefold()
    return next((e for e in envelopes if any(r["email"].casefold() == email for r in e["recipients"])), None)


def _envelope_problems(state: EnvelopeState, env: Mapping[str, Any] | None) -> list[str]:
    label = state.key or state.recipient
    if env is None:
        return [f"no envelope {'seeded as ' + str(state.key) if state.key else 'for ' + str(state.recipient)}"]
    problems = []
    if state.status is not None and env["status"] != state.status:
        problems.append(f"{label}: status {env['status']}, expected {state.status}")
    if state.recipients is not None:
        have = sorted(r["email"].casefold() for r in env["recipients"])
        want = sorted(str(e).casefold() for e in state.recipients)
        if have != want:
            problems.append(f"{label}: recipients {have}, expected {want}")
    if state.subject_contains and state.subject_contains.casefold() not in env["subject"].casefold():
        problems.append(f"{label}: subject {env['subject']!r} lacks {state.subject_contains!r}")
    return problems


def end_state_check(expected: EndState, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
                    seeded: Mapping[str, str], *, other_before: Sequence[Mapping[str, Any]] = (),
                    other_after: Sequence[Mapping[str, Any]] = (), bulk_batches: int | None = None) -> Check:
    problems: list[str] = []
    before_ids = {e["envelope_id"] for e in before}
    created = [e for e in after if e["envelope_id"] not in before_ids]
    if expected.envelope_count is not None and len(after) != expected.envelope_count:
        problems.append(f"{len(after)} envelope(s) in the account, expected {expected.envelope_count}")
    if expected.created is not None and len(created) != expected.created:
        problems.append(f"{len(created)} envelope(s) created, expected {expected.created}")
    for state in expected.envelopes:
        problems += _envelope_problems(state, _pick(state, after, seeded))

    def fingerprint(envs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((e["envelope_id"], e["status"], ",".join(sorted(r["email"] for r in e["recipients"])))
                      for e in envs)

    if expected.unchanged and fingerprint([e for e in after if e["envelope_id"] in before_ids]) != fingerprint(before):
        problems.append("a seeded envelope changed")
    if expected.other_unchanged and fingerprint(other_before) != fingerprint(other_after):
        problems.append("another user's envelope changed")
    if expected.bulk_batches is not None and bulk_batches != expected.bulk_batches:
        problems.append(f"{bulk_batches} bulk batch(es), expected {expected.bulk_batches}")
    return Check("end_state", not problems, "; ".join(problems))


def reply_check(expected: Reply, reply: str) -> Check | None:
    if expected.asks is None and not expected.mentions_any and not expected.not_mentions:
        return None
    text = reply.casefold()
    problems = []
    if expected.asks is True and "?" not in reply:
        problems.append("the last answer asks nothing")
    if expected.asks is False and reply.rstrip().endswith("?"):
        problems.append("the last answer asks a question instead of answering")
    if expected.mentions_any and not any(w.casefold() in text for w in expected.mentions_any):
        problems.append(f"the last answer mentions none of {expected.mentions_any}")
    bad = [w for w in expected.not_mentions if w.casefold() in text]
    if bad:
        problems.append(f"the last answer mentions {bad}")
    return Check("reply", not problems, "; ".join(problems) or "")


def run_check(errors: Sequence[str]) -> Check:
    return Check("run", not errors, "; ".join(errors))
