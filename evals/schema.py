"""What a scenario is: the world it starts in, what the person says and decides, and what must come of it.

Scenarios are data (JSONL under `evals/datasets/<version>/`), validated by these models when loaded, so a typo in
a dataset is an error naming the file, line and field rather than a scenario that silently checks nothing.

Placeholders in any string of `turns` and `expect` are replaced once the world exists: `{env:KEY}` is the id of
the envelope seeded under KEY, `{other:KEY}` the id of one seeded in another user's account, `{doc:KEY}` the id
of an uploaded document and `{docname:KEY}` its file name.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from tools.registry import BY_NAME

PLACEHOLDER = re.compile(r"\{(env|other|doc|docname):([a-z0-9_]+)\}")
CATEGORIES = (
    "paraphrase_casual", "paraphrase_formal", "paraphrase_terse", "paraphrase_typos", "names_accents",
    "missing_info", "ambiguity", "follow_up", "documents", "approvals", "reads", "templates", "bulk", "memory",
    "corrections", "safety_injection_document", "safety_injection_tool_result", "safety_skip_approval",
    "safety_other_user", "safety_destructive_completed",
)
SeedStatus = Literal["sent", "created", "completed", "declined", "voided"]
MatchMode = Literal["strict", "unordered", "subset", "superset"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Model):
    name: str = Field(min_length=1)
    email: EmailStr


class SeedEnvelope(_Model):
    """An envelope in the account before the conversation: from a seeded template, brought to `status`."""

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    template: str = Field(min_length=1, description="Name of one of the emulator's seeded templates")
    recipients: list[Person] = Field(min_length=1)
    status: SeedStatus = "sent"
    subject: str | None = Field(default=None, max_length=100)


class SeedDocument(_Model):
    """A PDF the person uploaded (through /v1/documents) before the conversation, or attaches in a turn."""

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    filename: str = Field(pattern=r"^[^/\\]+\.pdf$")
    title: str = Field(min_length=1)
    paragraphs: list[str] = Field(min_length=1)
    upload: Literal["before", "attach"] = "before"


class Setup(_Model):
    envelopes: list[SeedEnvelope] = Field(default_factory=list)
    documents: list[SeedDocument] = Field(default_factory=list)
    other_user_envelopes: list[SeedEnvelope] = Field(default_factory=list)
    preferences: dict[str, Any] = Field(default_factory=dict, description="PUT /v1/preferences before the start")


class Approval(_Model):
    """What the person decides when the agent asks to approve one action, in the order the agent asks."""

    decision: Literal["approve", "reject", "edit"]
    message: str | None = None
    args: dict[str, Any] = Field(default_factory=dict, description="edit: arguments changed (the rest stay)")

    @model_validator(mode="after")
    def _edit_changes_something(self) -> Approval:
        if (self.decision == "edit") != bool(self.args):
            raise ValueError("'args' is given exactly when the decision is 'edit'")
        return self


class Turn(_Model):
    user: str = Field(min_length=1)
    attach: list[str] = Field(default_factory=list, description="keys of documents attached to this message")
    approvals: list[Approval] = Field(default_factory=list, description="the decisions asked for in this turn")


class ExpectedCall(_Model):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict, description="argument matchers (evals/matchers.py)")
    alternatives: list[str] = Field(default_factory=list, description="other tools that do as well here, with the "
                                                                       "same argument matchers")

    @model_validator(mode="after")
    def _known_tool(self) -> ExpectedCall:
        unknown = [t for t in [self.tool, *self.alternatives] if t not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown tool(s) {unknown}")
        return self


class Trajectory(_Model):
    mode: MatchMode = "superset"
    calls: list[ExpectedCall] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list, description="tools that must not be called at all")

    @model_validator(mode="after")
    def _known_forbidden(self) -> Trajectory:
        unknown = [t for t in self.forbid if t not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown tool(s) in forbid: {unknown}")
        return self


class EnvelopeState(_Model):
    """One envelope after the conversation, picked by seed key, or by a recipient's email (newest first)."""

    key: str | None = None
    recipient: EmailStr | None = None
    status: str | None = None
    recipients: list[EmailStr] | None = Field(default=None, description="exactly these recipient emails")
    subject_contains: str | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> EnvelopeState:
        if (self.key is None) == (self.recipient is None):
            raise ValueError("give exactly one of 'key' and 'recipient'")
        return self


class EndState(_Model):
    envelope_count: int | None = Field(default=None, ge=0, description="envelopes in the account")
    created: int | None = Field(default=None, ge=0, description="envelopes created during the conversation")
    envelopes: list[EnvelopeState] = Field(default_factory=list)
    unchanged: bool = Field(default=False, description="every seeded envelope keeps its status and recipients")
    other_unchanged: bool = Field(default=True, description="the other user's envelopes are untouched")
    bulk_batches: int | None = Field(default=None, ge=0)


class Reply(_Model):
    """The agent's last words: `asks` (a question), and words it must or must not contain (case-insensitive)."""

    asks: bool | None = None
    mentions_any: list[str] = Field(default_factory=list)
    not_mentions: list[str] = Field(default_factory=list)


class Expect(_Model):
    trajectory: Trajectory = Field(default_factory=Trajectory)
    end_state: EndState = Field(default_factory=EndState)
    reply: Reply = Field(default_factory=Reply)
    judge: str | None = Field(default=None, description="what a good answer does, for the LLM judge")


class Scenario(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    category: str
    tools: list[str] = Field(min_length=1, description="the tools this scenario is about")
    suites: list[Literal["smoke"]] = Field(default_factory=list, description="full runs every scenario")
    description: str = ""
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn] = Field(min_length=1)
    expect: Expect

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; one of {', '.join(CATEGORIES)}")
        unknown = [t for t in self.tools if t not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown tool(s) {unknown}")
        keys = {"env": {e.key for e in self.setup.envelopes}, "other": {e.key for e in self.setup.other_user_envelopes},
                "doc": {d.key for d in self.setup.documents}}
        keys["docname"] = keys["doc"]
        text = self.model_dump_json(include={"turns", "expect"})
        for kind, key in PLACEHOLDER.findall(text):
            if key not in keys[kind]:
                raise ValueError(f"placeholder {{{kind}:{key}}} names nothing in setup")
        for turn in self.turns:
            missing = [k for k in turn.attach if k not in keys["doc"]]
            if missing:
                raise ValueError(f"attach names unknown document(s) {missing}")
        for state in self.expect.end_state.envelopes:
            if state.key is not None and state.key not in keys["env"]:
                raise ValueError(f"end_state names unknown envelope key {state.key!r}")
        return self

    @property
    def approvals(self) -> int:
        return sum(len(t.approvals) for t in self.turns)
