"""The server side of the chat page, and agent-chat-ui's paths through the official Python SDK.

- files inside messages (agent-chat-ui's, LangChain's and OpenAI's content blocks, or a reference to an uploaded
  document) become stored documents before the run starts, and bad ones refuse the run and store nothing;
- an edit whose list arguments arrive as JSON text (agent-chat-ui's edit form) sends what the person typed;
- local sign-in on a loopback server, and never otherwise;
- the UI's catch-all route leaves the API's 404s and 405s as they were.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from agent_helpers import CONTRACT_LINES, make_pdf, word_document

from api.app import create_app
from docusign_agent.settings import Settings
from tests.conftest import role_urls, running_app
from tests.ui_helpers import ProductServer, product_server  # noqa: F401

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tools(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(m["name"], json.loads(m["content"])) for m in values["messages"] if m["type"] == "tool"]


async def documents(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await http.get("/v1/documents")).json()


async def test_file_blocks_become_documents_for_every_client(product_server: ProductServer) -> None:
    client = product_server.client("fiona")
    pdf = make_pdf(CONTRACT_LINES)
    docx_bytes = word_document("Supplier Terms", "This agreement between Initech and Hooli covers office supplies.",
                           "Payment is due within 45 days.")
    thread = await client.threads.create()
    # agent-chat-ui: {"type": "file", "mimeType", "data", "metadata": {"filename"}}, beside the text
    state = await client.runs.wait(thread["thread_id"], "agent", input={"messages": [{"type": "human", "content": [
        {"type": "text", "text": "send this to Bob Stone bob@example.com"},
        {"type": "file", "mimeType": "application/pdf", "data": b64(pdf), "metadata": {"filename": "msa.pdf"}}]}]})
    human = state["messages"][0]
    assert human["content"] == [{"type": "text", "text": "send this to Bob Stone bob@example.com"},
                                {"type": "text", "text": "[attached file “msa.pdf”]"}]
    [attached] = human["additional_kwargs"]["attachments"]
    assert attached["filename"] == "msa.pdf" and attached["page_count"] == 1
    [request] = state["__interrupt__"][0]["value"]["action_requests"]
    assert request["name"] == "send_document" and request["args"]["document"] == "msa.pdf"
    assert "base64" not in json.dumps(state) and b64(pdf)[:40] not in json.dumps(state)

    # OpenAI's format, a Word file: analysed from its text
    thread = await client.threads.create()
    state = await client.runs.wait(thread["thread_id"], "agent", input={"messages": [{"role": "user", "content": [
        {"type": "text", "text": "summarise it"},
        {"type": "file", "file": {"filename": "supplier.docx", "file_data": f"data:{DOCX};base64,{b64(docx_bytes)}"}}]}]})
    name, payload = tools(state)[-1]
    assert name == "analyze_document" and payload["document"] == "supplier.docx", payload
    assert "Initech" in json.dumps(payload["analysis"])

    async with product_server.http("fiona") as http:
        stored = await documents(http)
        assert sorted(d["filename"] for d in stored) == ["msa.pdf", "supplier.docx"]
        # the same file sent again (a re-sent message) is stored once; a reference to it uses the stored row
        pdf_id = next(d["id"] for d in stored if d["filename"] == "msa.pdf")
        thread = await client.threads.create()
        state = await client.runs.wait(thread["thread_id"], "agent", input={"messages": [{"type": "human", "content": [
            {"type": "text", "text": "what are the key terms of it"}, {"type": "file", "file_id": pdf_id}]}]})
        assert tools(state)[-1][1]["document"] == "msa.pdf"
        state = await client.runs.wait(thread["thread_id"], "agent", input={"messages": [{"type": "human", "content": [
            {"type": "text", "text": "summarise it"}, {"type": "image", "source_type": "base64",
                                                      "mime_type": "application/pdf", "data": b64(pdf),
                                                      "filename": "msa.pdf"}]}]})
        assert len(await documents(http)) == 2


@pytest.mark.parametrize(("block", "status", "error"), [
    ({"type": "file", "mimeType": "application/pdf", "data": "not base64!!", "metadata": {"filename": "a.pdf"}},
     422, "invalid_attachment"),
    ({"type": "file", "mimeType": "text/csv", "data": b64(b"name,email\nbob,bob@example.com"),
      "metadata": {"filename": "people.csv"}}, 415, "unsupported_media_type"),
    ({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}, 422, "invalid_attachment"),
    ({"type": "file", "file_id": str(uuid.uuid4())}, 422, "unknown_document"),
])
async def test_a_bad_file_refuses_the_run_and_stores_nothing(product_server: ProductServer, block: dict[str, Any],
                                                             status: int, error: str) -> None:
    client = product_server.client("gwen")
    thread = await client.threads.create()
    good = {"type": "file", "mimeType": "application/pdf", "data": b64(make_pdf(["Fine"])),
            "metadata": {"filename": "fine.pdf"}}
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await client.runs.wait(thread["thread_id"], "agent", input={"messages": [
            {"type": "human", "content": [{"type": "text", "text": "send it"}, good, block]}]})
    assert refused.value.response.status_code == status
    body = refused.value.response.json()
    assert body["error"] == error and body["field"] == "input.messages[0].content[2]"
    async with product_server.http("gwen") as http:
        assert await documents(http) == []  # not even the good file of the refused run
        assert (await http.get(f"/threads/{thread['thread_id']}/runs")).json() == []


async def test_agent_chat_ui_edit_with_list_arguments_as_json_text(product_server: ProductServer) -> None:
    client = product_server.client("hana")
    thread = await client.threads.create()
    state = await client.runs.wait(thread["thread_id"], "agent", input={"messages": [
        {"type": "human", "content": "send the NDA template to Bob Stone bob@example.com"}]})
    args = state["__interrupt__"][0]["value"]["action_requests"][0]["args"]
    # what agent-chat-ui's edit form sends: every edited value as text, lists as JSON
    edited = {**args, "recipients": json.dumps([{"name": "Bob Stone", "email": "bob@corp.example.org"}], indent=2)}
    state = await client.runs.wait(thread["thread_id"], "agent", input={}, command={"resume": {"decisions": [
        {"type": "edit", "edited_action": {"name": "send_template", "args": edited}}]}})
    name, payload = tools(state)[-1]
    assert name == "send_template" and "error" not in payload, payload
    async with product_server.http("hana") as http:
        truth = (await http.get(f"/_emulator/envelopes/{payload['envelope_id']}")).json()
        assert [r["email"] for r in truth["recipients"]] == ["bob@corp.example.org"]
        mirrored = (await http.get(f"/v1/envelopes/{payload['envelope_id']}")).json()
        assert mirrored["recipients"][0]["email"] == "bob@corp.example.org"


# --- local sign-in ---------------------------------------------------------------------------------------------


async def _local(settings: Settings, *, client_host: str = "127.0.0.1", host: str = "127.0.0.1:8123"
                 ) -> tuple[dict[str, Any], httpx.Response, httpx.Response | None]:
    app = create_app(settings, role_urls(str(settings.database_url)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as http:
            status = (await http.get("/auth/local")).json()
            signed = await http.post("/auth/local")
            me = None
            if signed.status_code == 200:
                me = await http.get("/v1/me", headers={"Authorization": f"Bearer {signed.json()['token']}"})
            return status, signed, me


async def test_local_sign_in_on_loopback(settings: Settings) -> None:
    status, signed, me = await _local(settings)
    assert status == {"enabled": True, "reason": None}
    assert signed.status_code == 200 and signed.json()["token_type"] == "bearer"
    assert me is not None and me.status_code == 200 and me.json()["email"] == signed.json()["user"]["email"]
    again = await _local(settings)
    assert again[1].json()["user"]["user_id"] == signed.json()["user"]["user_id"]  # always the same local user


@pytest.mark.parametrize(("changes", "request_from", "reason"), [
    ({"local_sign_in": False}, {}, "LOCAL_SIGN_IN=false"),
    ({"host": "0.0.0.0"}, {}, "beyond this machine"),
    ({"public_url": "https://agent.example.com"}, {}, "PUBLIC_URL"),
    ({}, {"client_host": "203.0.113.7"}, "does not come from this machine"),
    ({}, {"host": "rebind.example.com:8123"}, "names a host other than this machine"),
])
async def test_local_sign_in_is_off_beyond_loopback(settings: Settings, changes: dict[str, Any],
                                                   request_from: dict[str, str], reason: str) -> None:
    status, signed, _ = await _local(settings.model_copy(update=changes), **request_from)
    assert status["enabled"] is False and reason in status["reason"]
    assert signed.status_code == 403 and signed.json()["error"] == "local_sign_in_unavailable"
    assert reason in signed.json()["message"] and "token" not in signed.json()


# --- the UI route leaves the API alone -------------------------------------------------------------------------


async def test_unknown_api_paths_keep_their_json_errors(settings: Settings) -> None:
    app = create_app(settings, role_urls(str(settings.database_url)))
    async with running_app(app) as http:
        html = {"Accept": "text/html,application/xhtml+xml"}
        for method, path, status in (("GET", "/threads/x/y", 404), ("POST", "/threads/x/unknown", 404),
                                     ("GET", "/v1/nope", 404), ("GET", "/runs/stream", 405), ("DELETE", "/ok", 405),
                                     ("POST", "/nope", 404), ("GET", "/_emulator/nope", 404),
                                     ("GET", "/assets/missing.js", 404), ("GET", "/nope.json", 404)):
            for headers in ({}, html):
                response = await http.request(method, path, headers=headers)
                assert response.status_code == status, (method, path, headers, response.text)
                assert response.headers["content-type"].startswith("application/json"), (method, path)
                if not path.startswith("/_emulator"):  # the emulator answers in DocuSign's error format
                    assert response.json()["error"] in ("not_found", "method_not_allowed")
        assert (await http.get("/ok")).json() == {"ok": True}


async def test_the_chat_page_is_served_with_caching_and_a_strict_policy(settings: Settings) -> None:
    from api.ui import STATIC_DIR

    app = create_app(settings, role_urls(str(settings.database_url)))
    asset = next(STATIC_DIR.glob("assets/*.js")).name
    async with running_app(app) as http:
        page = await http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache" and page.headers["etag"]
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "http" not in csp
        assert f"/assets/{asset}" in page.text
        again = await http.get("/", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        script = await http.get(f"/assets/{asset}")
        assert script.status_code == 200 and script.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "javascript" in script.headers["content-type"]
        icon = await http.get("/favicon.svg")
        assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"
        # a reload on a client-side address opens the page there; a file that is not there stays a 404
        deep = await http.get(f"/t/{uuid.uuid4()}", headers={"Accept": "text/html"})
        assert deep.status_code == 200 and deep.text == page.text
        assert (await http.get("/missing.png", headers={"Accept": "text/html"})).status_code == 404
        assert (await http.get("/../pyproject.toml")).status_code == 404
        assert (await http.head("/")).status_code == 200
