"""How every agent tool runs: validate, audit, call DocuSign, explain.

A tool is a `ToolSpec` (name, argument schema, approval policy, coroutine). `execute` is the one path every
call takes: arguments are validated before anything else (a bad email or an empty list becomes a message
naming the field, and DocuSign is never called), an audit row is committed before the tool body runs, and the
outcome (or the DocuSign error, as a sentence) completes it afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ValidationError

from db import audit
from docusign_agent.metrics import TOOL_CALLS
from docusign_client.errors import DocuSignError
from tools.context import MissingUser, ToolContext
from tools.results import ToolFailure, dumps, redact

log = logging.getLogger(__name__)

Approval = Literal["never", "always", "unless_draft", "reminder"]
# What a call does to the world, as MCP clients are told (tool annotations): it only reads; it adds or changes
# something without destroying anything (a new envelope, a reminder, a memory); or it destroys or overwrites
# something a person may have relied on (a void, a correction, a bulk send to many people, forgetting).
Effect = Literal["read", "write", "destructive"]
Runner = Callable[[ToolContext, Any], Awaitable[dict[str, Any]]]
# Checks a call can pass before a person is asked to approve it (the template exists, the document is uploaded);
# raises ToolFailure when the call could only fail, else returns facts for the approval's description.
Precheck = Callable[[ToolContext, Any], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args_schema: type[BaseModel]
    run: Runner
    approval: Approval = "never"
    docusign_call: str = ""
    precheck: Precheck | None = None
    effect: Effect = field(kw_only=True)
    idempotent: bool = field(default=False, kw_only=True)  # the same call again changes nothing more
    # Creates an envelope stamped with the call's `ToolContext.request_id`: after a crash mid-call, DocuSign
    # can be asked whether it exists (`tools.recovery`).
    creates_envelope: bool = field(default=False, kw_only=True)

    def needs_approval(self, args: dict[str, Any], *, confirm_reminders: bool = True) -> bool:
        if self.approval == "always":
            return True
        if self.approval == "unless_draft":
            return not bool(args.get("draft"))
        if self.approval == "reminder":
            return confirm_reminders
        return False

    def hints(self) -> dict[str, bool]:
        """The tool's behaviour as MCP tool annotations, from its data: read-only, destructive, idempotent,
        and open-world when it reaches DocuSign (and through it, people's inboxes)."""
        read_only = self.effect == "read"
        return {"read_only": read_only, "destructive": self.effect == "destructive",
                "idempotent": read_only or self.idempotent, "open_world": bool(self.docusign_call)}


def validation_failure(exc: ValidationError) -> ToolFailure:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "arguments"
    message = first.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return ToolFailure("invalid_argument", f"{field}: {message}", field=field)


def validate(spec: ToolSpec, args: dict[str, Any]) -> BaseModel:
    try:
        return spec.args_schema.model_validate(args)
    except ValidationError as exc:
        raise validation_failure(exc) from None


async def check(spec: ToolSpec, args: dict[str, Any], ctx: ToolContext) -> dict[str, str]:
    """Before asking a person: validate the arguments and run the tool's precheck. Raises ToolFailure (a DocuSign
    error becomes one too) when the call can only fail; returns the precheck's facts otherwise."""
    parsed = validate(spec, args)
    if spec.precheck is None:
        return {}
    try:
        return await spec.precheck(ctx, parsed)
    except Exception as exc:  # noqa: BLE001 - the same sentences the tool itself would give
        raise _failure_from(exc) from None


def _failure_from(exc: Exception) -> ToolFailure:
    if isinstance(exc, ToolFailure):
        return exc
    if isinstance(exc, DocuSignError):
        return ToolFailure(exc.error_code or "docusign_error", exc.user_message, trace_token=exc.trace_token)
    if isinstance(exc, MissingUser):
        return ToolFailure("unauthenticated", str(exc))
    log.exception("tool failed unexpectedly")
    return ToolFailure("internal_error", "Something went wrong on our side while doing that; nothing was changed "
                       "that I know of. Please try again.")


async def execute(spec: ToolSpec, args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Run one tool call to a JSON payload. Never raises: failures come back as `{"error", "message"}`."""
    db = ctx.database
    async with db.user_session(ctx.user_id) as session:
        audit_id = await audit.start(
            session, user_id=ctx.user_id, actor="agent", operation=spec.name, arguments=redact(args),
            envelope_id=args.get("envelope_id") if isinstance(args.get("envelope_id"), str) else None,
            thread_id=ctx.thread_id, run_id=ctx.run_id, tool_call_id=ctx.tool_call_id,
        )
    started = time.perf_counter()
    trace_token: str | None = None
    try:
        parsed = validate(spec, args)
        payload = await spec.run(ctx, parsed)
        trace_token = payload.pop("_trace_token", None)
        status, failure = "succeeded", None
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message the model can explain
        failure = _failure_from(exc)
        payload = failure.payload()
        trace_token = failure.trace_token
        status = "failed"
    TOOL_CALLS.labels(tool=spec.name, status=status).inc()
    async with db.user_session(ctx.user_id) as session:
        await audit.finish(
            session, audit_id, status=status, started=started, now=time.perf_counter(),
            outcome={"summary": payload.get("summary")} if failure is None else None,
            error_code=failure.code if failure else None, error_message=failure.message if failure else None,
            trace_token=trace_token,
            envelope_id=payload.get("envelope_id") if isinstance(payload.get("envelope_id"), str) else None,
        )
    return payload


ContextFor = Callable[[RunnableConfig], Awaitable[ToolContext]]


def as_langchain_tool(spec: ToolSpec, context_for: ContextFor) -> StructuredTool:
    """The same spec as a LangChain tool: its schema is what the model is bound with, and invoking it inside a
    run goes through `execute` like every other call, with the ToolContext `context_for` builds from the run."""

    async def _run(config: RunnableConfig, **kwargs: Any) -> str:
        ctx = await context_for(config)
        return dumps(await execute(spec, kwargs, ctx))

    return StructuredTool.from_function(
        coroutine=_run, name=spec.name, description=spec.description, args_schema=spec.args_schema,
    )
