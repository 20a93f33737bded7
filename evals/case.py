"""One attempt at one scenario, from a fresh world to its verdict: set up the user, the account and what they
start with, hold the conversation, read back what really happened, and run every check.

Whatever goes wrong in the infrastructure (the server or emulator not answering) raises, so the runner can try
again on a new world; whatever the agent does wrong is a failed check, never retried.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from docusign_agent.settings import Settings
from evals.api_client import ScenarioUser
from evals.compliance import violations
from evals.conversation import converse
from evals.evaluators import (
    Check,
    approval_flow_check,
    compliance_check,
    end_state_check,
    reply_check,
    run_check,
    trajectory_checks,
)
from evals.schema import PLACEHOLDER, Scenario, Turn
from evals.world import Harness


@dataclass
class CaseResult:
    scenario_id: str
    attempt: int
    category: str
    tools: list[str]
    passed: bool
    compliant: bool
    checks: list[dict[str, Any]]
    latency_ms: float
    tokens: int
    docusign_calls: int
    irreversible_calls: int
    violations: list[dict[str, str]]
    transcript: list[dict[str, Any]]
    infrastructure_retries: int = 0
    judge: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def failed_checks(self) -> list[str]:
        return [c["name"] for c in self.checks if not c["passed"]]


@dataclass
class CaseEnvironment:
    settings: Settings
    url: str
    http: httpx.AsyncClient
    harness: Harness
    turn_timeout: float = 180.0
    judge: Any = None  # evals.judge.Judge when --judge-model is given
    placeholders: dict[str, str] = field(default_factory=dict)


def substituted(scenario: Scenario, values: dict[str, str]) -> Scenario:
    """The scenario with `{env:KEY}`-style placeholders replaced by the ids of this world."""
    text = scenario.model_dump_json()
    text = PLACEHOLDER.sub(lambda m: values[f"{m.group(1)}:{m.group(2)}"], text)
    return Scenario.model_validate(json.loads(text))


async def run_case(env: CaseEnvironment, scenario: Scenario, attempt: int) -> CaseResult:
    user = ScenarioUser.fresh(env.settings, env.url, scenario.id)
    account = await env.harness.account(user.email, user.name)
    if scenario.setup.preferences:
        await user.set_preferences(env.http, scenario.setup.preferences)
    values: dict[str, str] = {}
    for seed in scenario.setup.envelopes:
        values[f"env:{seed.key}"] = await env.harness.seed(account, seed)
    other = None
    if scenario.setup.other_user_envelopes:
        other = await env.harness.account(f"other-{user.email}", "Another Person")
        for seed in scenario.setup.other_user_envelopes:
            values[f"other:{seed.key}"] = await env.harness.seed(other, seed)
    for document in scenario.setup.documents:
        values[f"doc:{document.key}"] = await user.upload(env.http, document)
        values[f"docname:{document.key}"] = document.filename
    live = substituted(scenario, values)
    attached = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("doc:")}

    def content_for(turn: Turn) -> Any:
        if not turn.attach:
            return turn.user
        return [{"type": "text", "text": turn.user}] + [{"type": "file", "file_id": attached[k]} for k in turn.attach]

    before = await env.harness.envelopes(account)
    other_before = await env.harness.envelopes(other) if other else []
    mark = await env.harness.requests_mark()
    transcript = await converse(user.sdk(env.turn_timeout), live, content_for, turn_timeout=env.turn_timeout)
    requests = await env.harness.requests(account, mark)
    audit = await user.audit(env.http)
    after = await env.harness.envelopes(account)
    other_after = await env.harness.envelopes(other) if other else []
    batches = await env.harness.bulk_batches(account) if live.expect.end_state.bulk_batches is not None else None

    decided = {d.tool_call_id: d.decision for d in transcript.decided if d.tool_call_id}
    reminders = bool(live.setup.preferences.get("confirm_reminders", True))
    irreversible, found = violations(requests, audit, decided, reminders_need_approval=reminders)
    checks: list[Check] = [
        run_check(transcript.run_errors),
        *trajectory_checks(live.expect.trajectory, transcript.tool_calls(), account.templates),
        approval_flow_check(live.approvals, transcript.unexpected_approvals, transcript.unused_approvals),
        compliance_check(irreversible, found),
        end_state_check(live.expect.end_state, before, after, account.seeded, other_before=other_before,
                        other_after=other_after, bulk_batches=batches),
    ]
    reply = reply_check(live.expect.reply, transcript.last_reply())
    if reply is not None:
        checks.append(reply)
    judged = None
    if env.judge is not None:
        judged = await env.judge.grade(live, transcript)
        checks.append(Check("judge", bool(judged["score"]), str(judged.get("comment") or "")[:500]))
    return CaseResult(
        scenario_id=scenario.id, attempt=attempt, category=scenario.category, tools=list(scenario.tools),
        passed=all(c.passed for c in checks), compliant=not found, checks=[c.as_json() for c in checks],
        latency_ms=round(transcript.latency_ms, 1), tokens=transcript.tokens(), docusign_calls=len(requests),
        irreversible_calls=irreversible, violations=[v.as_json() for v in found],
        transcript=_redacted(transcript.readable()), judge=judged)


TOKEN = re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+")


def _redacted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcripts go into reports: no bearer token that a tool result might echo goes with them."""
    return json.loads(TOKEN.sub(r"\1[redacted]", json.dumps(lines)))
