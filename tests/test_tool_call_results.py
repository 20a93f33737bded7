"""What a DocuSign call learned comes back with that call: the audit row of each tool call names its own trace
token, even when calls share one client concurrently and one of them makes further calls after its write.

The emulator is wrapped in a recorder that notes the trace token of every answer it sends, so the test knows
which token belongs to which request without trusting the client it checks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from client_helpers import new_user
from docusign_esign import EnvelopeDefinition, TemplateRole
from sqlalchemy import select

from agent.model import chat_models
from db.models import AuditLog
from db.session import Database
from docusign_agent.settings import Settings
from docusign_client.client import DocuSignClient
from docusign_client.clients import DocuSignClients
from docusign_client.retry import RetryPolicy
from emulator.standalone import build_standalone_app
from tests.servers import ServerThread
from tools.base import execute
from tools.context import ToolContext
from tools.registry import BY_NAME


class TraceRecorder:
    """ASGI wrapper: (method, path, trace token) of every HTTP answer, in the order they were sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording(message: Any) -> None:
            if message["type"] == "http.response.start":
                token = dict(message["headers"]).get(b"x-docusign-tracetoken", b"").decode()
                self.answers.append((scope["method"], scope["path"], token))
            await send(message)

        await self.app(scope, receive, recording)

    def token_of(self, method: str, path_end: str) -> str:
        tokens = [t for m, p, t in self.answers if m == method and p.endswith(path_end)]
        assert len(tokens) == 1, (method, path_end, self.answers)
        return tokens[0]


@pytest.fixture(scope="module")
def recorded_emulator() -> Iterator[tuple[ServerThread, TraceRecorder]]:
    app = build_standalone_app()
    recorder = TraceRecorder(app)
    with ServerThread(recorder) as server:
        yield server, recorder


def add_fault(server: ServerThread, **fault: Any) -> str:
    response = httpx.post(f"{server.url}/_emulator/faults", json=fault, timeout=10)
    assert response.status_code < 300, response.text
    return str(response.json()["fault_id"])



@pytest.fixture
async def tool_context(settings: Settings, database: Database,
                       recorded_emulator: tuple[ServerThread, TraceRecorder]) -> AsyncIterator[ToolContext]:
    server, _ = recorded_emulator
    clients = DocuSignClients(settings, database, emulator_url=f"{server.url}/_emulator",
                              retry=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.1))
    try:
        async with chat_models(settings) as models:
            yield ToolContext(user_id=await new_user(database), thread_id=None, run_id=None, tool_call_id=None,
                              settings=settings, database=database, docusign=clients, analysis_model=models.analysis)
    finally:
        await clients.aclose()


async def _sent_envelope(client: DocuSignClient) -> str:
    nda = next(t for t in (await client.list_templates()).value.envelope_templates if t.name == "Mutual NDA")
    created = await client.create_envelope(EnvelopeDefinition(template_id=nda.template_id, status="sent", template_roles=[
        TemplateRole(role_name="Party A", name="Ann", email="ann@example.com"),
        TemplateRole(role_name="Party B", name="Bob", email="bob@example.com")]), request_id=str(uuid.uuid4()))
    return str(created.value.envelope_id)


async def _audit_token(ctx: ToolContext, tool_call_id: str) -> str | None:
    async with ctx.database.user_session(ctx.user_id) as session:
        row = (await session.execute(select(AuditLog).where(AuditLog.tool_call_id == tool_call_id))).scalar_one()
    assert row.status == "succeeded", (row.error_code, row.error_message)
    return row.docusign_trace_token


async def test_each_concurrent_tool_call_audits_its_own_write_trace_token(
        tool_context: ToolContext, recorded_emulator: tuple[ServerThread, TraceRecorder]) -> None:
    server, recorder = recorded_emulator
    client = await tool_context.client()
    slow, fast = await _sent_envelope(client), await _sent_envelope(client)
    # The reminder's write (PUT ?resend_envelope) is held back, so the void of the other envelope, on the same
    # client, starts after it and finishes first; and after its write the reminder reads the recipients again.
    add_fault(server, route=f"PUT /restapi/.*/envelopes/{slow}$", kind="latency", latency_ms=1500, count=1)
    remind = execute(BY_NAME["remind_recipients"], {"envelope_id": slow},
                     _with_call(tool_context, "call_remind"))
    void = execute(BY_NAME["void_envelope"], {"envelope_id": fast, "reason": "sent by mistake"},
                   _with_call(tool_context, "call_void"))
    reminded, voided = await asyncio.gather(remind, void)
    assert "error" not in reminded and "error" not in voided, (reminded, voided)

    remind_token = recorder.token_of("PUT", f"/envelopes/{slow}")
    void_token = recorder.token_of("PUT", f"/envelopes/{fast}")
    assert remind_token != void_token
    assert await _audit_token(tool_context, "call_remind") == remind_token
    assert await _audit_token(tool_context, "call_void") == void_token


async def test_a_result_carries_its_own_attempts_and_trace_token(
        tool_context: ToolContext, recorded_emulator: tuple[ServerThread, TraceRecorder]) -> None:
    server, recorder = recorded_emulator
    client = await tool_context.client()
    add_fault(server, route="GET /restapi/.*/templates$", kind="500", count=1)
    retried, plain = await asyncio.gather(client.list_templates(), client.list_templates(search_text="Offer"))
    answered = {t for m, p, t in recorder.answers if m == "GET" and p.endswith("/templates")}
    assert {retried.trace_token, plain.trace_token} <= answered and retried.trace_token != plain.trace_token
    assert sorted([retried.attempts, plain.attempts]) == [1, 2]  # the fault hit one of them, and only that one
    assert retried.rate_limit is not None and plain.rate_limit is not None


def _with_call(ctx: ToolContext, tool_call_id: str) -> ToolContext:
    return ToolContext(user_id=ctx.user_id, thread_id=ctx.thread_id, run_id=ctx.run_id, tool_call_id=tool_call_id,
                       settings=ctx.settings, database=ctx.database, docusign=ctx.docusign,
                       analysis_model=ctx.analysis_model)
