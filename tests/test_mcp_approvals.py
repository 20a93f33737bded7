"""Irreversible calls over MCP with the official `mcp` client against a real server and the emulator: asked by
elicitation (accepted → sent; declined → nothing), held when the client cannot ask (pending, then approved
through the API → sent, or rejected → nothing), decided once, audited; and the whole send → approve → status →
download flow from an MCP client."""

from __future__ import annotations

from typing import Any

import httpx
import mcp_types as types
import pytest
from sqlalchemy import select

from db.models import Approval, AuditLog
from db.session import Database
from tests.api_helpers import ApiServer
from tests.mcp_helpers import mcp_client, mcp_server, payload
from tests.servers import await_until

__all__ = ["mcp_server"]

NDA = {"template": "Mutual NDA", "recipients": [{"name": "Bob Smith", "email": "bob@example.com"}]}


class Person:
    """The person behind an MCP client's elicitation: answers as told, and remembers what they were shown."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.shown: list[str] = []

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.shown.append(params.message)
        return types.ElicitResult(action=self.action, content={} if self.action == "accept" else None)


async def emulator_envelope(server: ApiServer, envelope_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=str(server.settings.docusign_emulator_url)) as http:
        response = await http.get(f"/envelopes/{envelope_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def envelopes_in_docusign(client: Any) -> list[dict[str, Any]]:
    return payload(await client.call_tool("list_envelopes", {}))["envelopes"]  # type: ignore[no-any-return]


async def rows(database: Database, server: ApiServer, name: str) -> tuple[list[Approval], list[AuditLog]]:
    user = server.users[name]
    async with database.user_session(user) as session:
        approvals = list((await session.execute(select(Approval).order_by(Approval.created_at))).scalars())
        audit = list((await session.execute(select(AuditLog).where(AuditLog.operation == "send_template")
                                             .order_by(AuditLog.id))).scalars())
    return approvals, audit


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_elicitation_accepted_sends(mcp_server: ApiServer, database: Database, mode: str) -> None:
    name = f"acc-{mode}"
    person = Person("accept")
    async with mcp_client(mcp_server, name, elicitation=person, mode=mode) as client:
        sent = await client.call_tool("send_template", NDA)
        data = payload(sent)
        assert not sent.is_error, data
        [listed] = await envelopes_in_docusign(client)
    # the person saw the chat approval card's own words
    assert person.shown and person.shown[0].startswith("Send *Mutual NDA* to Bob Smith <bob@example.com>")
    assert listed["envelopeId"] == data["envelope_id"]
    assert (await emulator_envelope(mcp_server, data["envelope_id"]))["status"] == "sent"
    [approval], audit = await rows(database, mcp_server, name)
    assert approval.source == "mcp" and approval.decision == "approved" and approval.consumed_at is not None
    assert [(a.status, a.tool_call_id) for a in audit] == [("succeeded", approval.tool_call_id)] * 2


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_elicitation_declined_sends_nothing(mcp_server: ApiServer, database: Database, mode: str) -> None:
    name = f"dec-{mode}"
    person = Person("decline")
    async with mcp_client(mcp_server, name, elicitation=person, mode=mode) as client:
        declined = await client.call_tool("send_template", NDA)
        assert await envelopes_in_docusign(client) == []  # nothing reached DocuSign
    assert declined.is_error and payload(declined)["error"] == "rejected" and len(person.shown) == 1
    [approval], audit = await rows(database, mcp_server, name)
    assert approval.decision == "rejected" and approval.consumed_at is None
    assert [(a.status, a.error_code) for a in audit] == [("rejected", "rejected")]


async def test_without_elicitation_held_then_approved_through_the_api(mcp_server: ApiServer) -> None:
    async with mcp_client(mcp_server, "hal") as client:
        held = payload(await client.call_tool("send_template", NDA))
        assert held["status"] == "awaiting_approval" and "Nothing has been done" in held["summary"]
        assert "/v1/approvals/" in held["summary"]
        assert await envelopes_in_docusign(client) == []
        pending = payload(await client.call_tool("get_approval", {"approval_id": held["approval_id"]}))
        assert pending["status"] == "pending"

        async with mcp_server.http("hal") as http:
            waiting = (await http.get("/v1/approvals")).json()["approvals"]
            assert [a["id"] for a in waiting] == [held["approval_id"]]
            assert waiting[0]["description"].startswith("Send *Mutual NDA* to Bob Smith <bob@example.com>")
            async with mcp_server.http("ivy") as other:  # another user sees nothing and can decide nothing
                assert (await other.get("/v1/approvals")).json()["approvals"] == []
                stolen = await other.post(f"/v1/approvals/{held['approval_id']}", json={"decision": "approve"})
                assert stolen.status_code == 404
            bad = await http.post(f"/v1/approvals/{held['approval_id']}", json={"decision": "yes"})
            assert bad.status_code == 422 and bad.json()["field"] == "decision"
            assert await envelopes_in_docusign(client) == []  # neither refusal changed anything

            decided = await http.post(f"/v1/approvals/{held['approval_id']}", json={"decision": "approve"})
            assert decided.status_code == 200, decided.text
            result = decided.json()["result"]
            again = await http.post(f"/v1/approvals/{held['approval_id']}", json={"decision": "approve"})
            assert again.status_code == 409 and again.json()["field"] == "approval_id"
            assert (await http.get("/v1/approvals")).json()["approvals"] == []

        assert (await emulator_envelope(mcp_server, result["envelope_id"]))["status"] == "sent"
        assert [e["envelopeId"] for e in await envelopes_in_docusign(client)] == [result["envelope_id"]]  # once
        done = payload(await client.call_tool("get_approval", {"approval_id": held["approval_id"]}))
    assert done["status"] == "approved" and done["outcome"]["envelope_id"] == result["envelope_id"]
    assert done["outcome"]["status"] == "succeeded"


async def test_held_then_rejected_sends_nothing(mcp_server: ApiServer, database: Database) -> None:
    async with mcp_client(mcp_server, "jay") as client:
        held = payload(await client.call_tool("send_template", NDA))
        async with mcp_server.http("jay") as http:
            rejected = await http.post(f"/v1/approvals/{held['approval_id']}",
                                       json={"decision": "reject", "message": "wrong person"})
            late = await http.post(f"/v1/approvals/{held['approval_id']}", json={"decision": "approve"})
        assert rejected.status_code == 200 and rejected.json()["result"] is None
        assert late.status_code == 409
        assert await envelopes_in_docusign(client) == []
    [approval], audit = await rows(database, mcp_server, "jay")
    assert approval.decision == "rejected"
    assert [(a.status, a.error_message) for a in audit] == [("rejected", "Rejected by the person (api): wrong person")]


async def test_answers_for_questions_never_asked_are_refused(mcp_server: ApiServer) -> None:
    """A 2026-protocol retry can only answer a question this server asked this user: a call held for the chat
    page, another user's question, or a forged state runs nothing."""
    async with mcp_client(mcp_server, "kai") as client:
        held = payload(await client.call_tool("send_template", NDA))
        session = client.session
        for state in (held["approval_id"], f"{held['approval_id']}.{'0' * 64}", "nonsense"):
            forged = await session.call_tool("send_template", NDA, input_responses={
                "approval": types.ElicitResult(action="accept", content={})}, request_state=state)
            assert forged.is_error and payload(forged)["error"] == "approval_unknown"
        assert await envelopes_in_docusign(client) == []
        still = payload(await client.call_tool("get_approval", {"approval_id": held["approval_id"]}))
    assert still["status"] == "pending"


async def test_a_call_that_can_only_fail_asks_nobody(mcp_server: ApiServer) -> None:
    person = Person("accept")
    async with mcp_client(mcp_server, "lou", elicitation=person) as client:
        unknown = await client.call_tool("send_template", {**NDA, "template": "No Such Template"})
        invalid = await client.call_tool("void_envelope", {"envelope_id": "x"})
    assert unknown.is_error and payload(unknown)["error"] == "unknown_template"
    assert invalid.is_error and payload(invalid)["field"] == "reason"
    assert person.shown == []


async def test_send_approve_status_download_from_an_mcp_client(mcp_server: ApiServer) -> None:
    """The whole flow an MCP client drives: send (the person approves in the client), the signer signs, status,
    then the signed PDF as a resource."""
    async with mcp_client(mcp_server, "max", elicitation=Person("accept")) as client:
        sent = payload(await client.call_tool("send_template", NDA))
        envelope_id = sent["envelope_id"]
        async with httpx.AsyncClient(base_url=str(mcp_server.settings.docusign_emulator_url)) as emulator:
            signed = await emulator.post(f"/envelopes/{envelope_id}/sign", json={"recipient_id": "1"})
            assert signed.status_code == 200, signed.text

        async def completed() -> bool:
            status = payload(await client.call_tool("get_envelope_status", {"envelope_id": envelope_id}))
            return status["envelope"]["status"] == "completed"

        await await_until(completed, timeout=60)  # the mirror may hold "sent" until Connect tells it
        download = await client.call_tool("download_document", {"envelope_id": envelope_id, "document": "combined"})
        link = next(c for c in download.content if isinstance(c, types.ResourceLink))
        read = await client.read_resource(link.uri)
    assert link.uri == f"docusign://documents/{payload(download)['document_id']}"
    blob = read.contents[0]
    assert isinstance(blob, types.BlobResourceContents) and blob.mime_type == "application/pdf"
