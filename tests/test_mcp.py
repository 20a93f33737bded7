"""`/mcp` with the official `mcp` client over streamable HTTP against a real server: the tools and their
annotations, a read tool through the one execute path (audited), the caller's resources and nobody else's, the
agent as a tool, and authentication like every other route."""

from __future__ import annotations

import uuid

import httpx
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from api.auth import issue_token
from api.mcp.agent_tool import AskAgentArgs
from db.models import AuditLog
from db.session import Database
from docusign_agent.settings import Settings
from tests.conftest import role_urls, running_app
from tests.api_helpers import ApiServer
from tests.mcp_helpers import mcp_client, mcp_server, payload
from tests.test_api_v1 import pdf
from tools.registry import ALL, BY_NAME

__all__ = ["mcp_server"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_with_schemas_and_annotations(mcp_server: ApiServer, mode: str) -> None:
    async with mcp_client(mcp_server, "tess", mode=mode) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == {spec.name for spec in ALL} | {"ask_docusign_agent", "get_approval"}
    for spec in ALL:
        tool = listed[spec.name]
        assert tool.input_schema == spec.args_schema.model_json_schema()
        assert tool.description and tool.description.startswith(spec.description)
    hints = {name: (t.annotations.read_only_hint, t.annotations.destructive_hint, t.annotations.idempotent_hint)
             for name, t in listed.items() if t.annotations}
    assert hints["list_envelopes"] == (True, False, True)
    assert hints["get_envelope_status"][0] is True and hints["download_document"][0] is False
    for destructive in ("void_envelope", "correct_recipient", "bulk_send"):
        assert hints[destructive][:2] == (False, True), destructive
    assert hints["send_template"] == (False, False, False) and hints["send_document"] == (False, False, False)
    assert hints["void_envelope"][2] is True and hints["remind_recipients"][2] is False
    # every irreversible tool says so to the calling model, and none claims to be read-only
    for spec in ALL:
        if spec.approval != "never":
            assert "Irreversible" in (listed[spec.name].description or "") and not hints[spec.name][0]
    assert listed["ask_docusign_agent"].input_schema == AskAgentArgs.model_json_schema()
    assert listed["get_approval"].annotations.read_only_hint is True


async def test_read_tool_goes_through_execute(mcp_server: ApiServer, database: Database) -> None:
    async with mcp_client(mcp_server, "uma") as client:
        result = await client.call_tool("list_templates", {"search_text": "NDA"})
        bad = await client.call_tool("get_envelope_status", {"envelope_id": ""})
    data = payload(result)
    assert not result.is_error and [t["name"] for t in data["templates"]] == ["Mutual NDA"]
    assert bad.is_error and payload(bad)["error"] == "invalid_argument" and payload(bad)["field"] == "envelope_id"
    user = mcp_server.users["uma"]
    async with database.user_session(user) as session:
        rows = (await session.execute(select(AuditLog).where(AuditLog.user_id == user)
                                      .order_by(AuditLog.id))).scalars().all()
    assert [(r.operation, r.status) for r in rows] == [("list_templates", "succeeded"),
                                                       ("get_envelope_status", "failed")]
    assert all(r.actor == "agent" and (r.tool_call_id or "").startswith("mcp-") for r in rows)


async def test_unknown_tool_and_bad_arguments(mcp_server: ApiServer) -> None:
    async with mcp_client(mcp_server, "vic") as client:
        unknown = await client.call_tool("format_disk", {})
        extra = await client.call_tool("list_templates", {"search_text": "NDA", "sudo": True})
    assert unknown.is_error and payload(unknown)["error"] == "unknown_tool"
    assert extra.is_error and payload(extra)["field"] == "sudo"


async def test_authentication_like_every_route(mcp_server: ApiServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}
    async with httpx.AsyncClient(base_url=mcp_server.url, timeout=60) as http:
        missing = await http.post("/mcp", json=body, headers={"Accept": "application/json, text/event-stream"})
        wrong = await http.post("/mcp", json=body, headers={"Authorization": "Bearer nope"})
        bad_key = await http.post("/mcp", json=body, headers={"X-Api-Key": "dsa_wrong"})
    for response, code in ((missing, "unauthenticated"), (wrong, "invalid_token"), (bad_key, "invalid_api_key")):
        assert response.status_code == 401 and response.json()["error"] == code
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert "resource_metadata" not in response.headers["www-authenticate"]  # no issuer is configured
    with pytest.raises(Exception):
        async with mcp_client(mcp_server, None) as client:
            await client.list_tools()

    # an API key works exactly like a bearer token, for its owner
    async with mcp_server.http("wes") as http:
        key = (await http.post("/v1/api-keys", json={"name": "claude"})).json()["key"]
    async with mcp_client(mcp_server, None, headers={"X-Api-Key": key}) as client:
        listed = await client.call_tool("list_memories", {})
    assert not listed.is_error and "summary" in payload(listed)


async def test_resources_are_the_callers_own(mcp_server: ApiServer) -> None:
    async with mcp_server.http("xena") as http:
        upload = await http.post("/v1/documents", files={"file": ("lease.pdf", pdf("Lease Agreement for Unit 4"),
                                                                   "application/pdf")})
        assert upload.status_code == 201
        document_id = upload.json()["id"]
    uri = f"docusign://documents/{document_id}"
    async with mcp_client(mcp_server, "xena") as client:
        mine = [r.uri for r in (await client.list_resources()).resources]
        read = await client.read_resource(uri)
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    assert uri in mine
    blob, text = read.contents
    assert isinstance(blob, types.BlobResourceContents) and blob.mime_type == "application/pdf"
    assert isinstance(text, types.TextResourceContents) and "Lease Agreement" in text.text
    assert templates == ["docusign://documents/{document_id}", "docusign://envelopes/{envelope_id}"]

    async with mcp_client(mcp_server, "yuri") as other:
        theirs = [r.uri for r in (await other.list_resources()).resources]
        with pytest.raises(MCPError) as refused:
            await other.read_resource(uri)
        with pytest.raises(MCPError) as missing:
            await other.read_resource(f"docusign://documents/{uuid.uuid4()}")
    assert theirs == []
    assert refused.value.code == missing.value.code == types.INVALID_PARAMS
    assert refused.value.message.replace(uri, "X") == missing.value.message.replace(missing.value.error.data["uri"], "X")


async def test_session_belongs_to_its_user(mcp_server: ApiServer) -> None:
    """A handshake-era session opened by one user answers another user's token as if it did not exist."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    async with httpx.AsyncClient(base_url=mcp_server.url, timeout=60) as http:
        opened = await http.post("/mcp", json=init, headers={**accept, **mcp_server.headers("zoe")})
        assert opened.status_code == 200
        session = opened.headers["mcp-session-id"]
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        other = await http.post("/mcp", json=listing,
                                headers={**accept, **mcp_server.headers("abe"), "Mcp-Session-Id": session})
        own = await http.post("/mcp", json=listing,
                              headers={**accept, **mcp_server.headers("zoe"), "Mcp-Session-Id": session})
    assert other.status_code == 404
    assert own.status_code == 200 and "list_envelopes" in own.text


async def test_agent_tool_answers_end_to_end(mcp_server: ApiServer) -> None:
    async with mcp_client(mcp_server, "cleo") as client:
        first = await client.call_tool("ask_docusign_agent", {"question": "which templates do I have?"})
        data = payload(first)
        again = await client.call_tool("ask_docusign_agent", {"question": "list my envelopes",
                                                               "thread_id": data["thread_id"]})
        bad = await client.call_tool("ask_docusign_agent", {"question": ""})
    assert not first.is_error and "Mutual NDA" in data["answer"]
    assert not again.is_error and payload(again)["thread_id"] == data["thread_id"]
    assert bad.is_error and payload(bad)["field"] == "question"
    # the turns ran on a real thread of this user, visible through the LangGraph API, and only to them
    thread = await mcp_server.client("cleo").threads.get(data["thread_id"])
    humans = [m["content"] for m in thread["values"]["messages"] if m["type"] == "human"]
    assert humans == ["which templates do I have?", "list my envelopes"]
    async with mcp_server.http("dana") as http:
        assert (await http.get(f"/threads/{data['thread_id']}")).status_code == 404


async def test_irreversible_call_is_not_run_on_the_models_word(mcp_server: ApiServer) -> None:
    async with mcp_client(mcp_server, "eve") as client:
        sent = await client.call_tool("send_template", {
            "template": "Mutual NDA", "recipients": [{"name": "Bob Smith", "email": "bob@example.com"}]})
        unknown = await client.call_tool("send_template", {
            "template": "No Such Template", "recipients": [{"name": "Bob Smith", "email": "bob@example.com"}]})
        envelopes = await client.call_tool("list_envelopes", {})
    assert payload(sent)["status"] == "awaiting_approval"  # held for the person (tests/test_mcp_approvals.py)
    assert unknown.is_error and payload(unknown)["error"] == "unknown_template"
    assert payload(envelopes)["envelopes"] == []  # DocuSign (the emulator) has nothing
    assert BY_NAME["send_template"].needs_approval({"draft": False})


async def test_protocol_eras(mcp_server: ApiServer) -> None:
    async with mcp_client(mcp_server, "fay") as modern, mcp_client(mcp_server, "fay", mode="legacy") as legacy:
        assert modern.protocol_version == "2026-07-28"
        assert legacy.protocol_version.startswith("2025-")


async def test_oauth_resource_metadata_with_an_issuer(settings: Settings) -> None:
    """With an issuer configured, a refused MCP request points at this resource's metadata (RFC 9728), which
    names the issuer as the authorization server; the issuer's tokens are accepted."""
    from api.app import create_app

    issuer = "https://auth.example.com/"
    configured = settings.model_copy(update={"auth_jwt_issuer": issuer, "public_url": "http://mcp.example.com"})
    async with running_app(create_app(configured, role_urls(settings.database_url))) as http:  # type: ignore[arg-type]
        metadata = await http.get("/.well-known/oauth-protected-resource/mcp")
        refused = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "server/discover"})
        token = issue_token(configured, uuid.uuid4(), "gil@example.com")
        accepted = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}}}},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                     "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "server/discover"})
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == "http://mcp.example.com/mcp"
    assert metadata.json()["authorization_servers"] == [issuer]
    assert refused.status_code == 401
    assert ('resource_metadata="http://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
            in refused.headers["www-authenticate"])
    assert accepted.status_code == 200, accepted.text
    assert "supportedVersions" in accepted.text


async def test_no_resource_metadata_without_an_issuer(mcp_server: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=mcp_server.url) as http:
        response = await http.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
