"""The real ChatOpenAI client (streaming, bind_tools) against the offline model, in-process and over TCP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI

from docusign_agent.settings import OFFLINE_MODEL
from emulator.offline_model import create_offline_model_app
from tests.servers import ServerThread
try:  # tests/ as a package or as a plain directory on sys.path
    from tests.test_offline_model_support import GUID, TODAY, langchain_tools, validate
except ImportError:
    from test_offline_model_support import GUID, TODAY, langchain_tools, validate


@pytest.fixture(scope="module")
def tcp_base_url() -> Iterator[str]:
    with ServerThread(create_offline_model_app(today=TODAY), lifespan="off") as server:
        yield f"{server.url}/v1"


@pytest.fixture(params=["asgi", "tcp"])
def model(request) -> ChatOpenAI:
    if request.param == "asgi":
        transport = httpx.ASGITransport(app=create_offline_model_app(today=TODAY))
        return ChatOpenAI(model=OFFLINE_MODEL, api_key="offline", base_url="http://offline-model/v1",
                          http_async_client=httpx.AsyncClient(transport=transport), streaming=True,
                          stream_usage=True, temperature=0, max_retries=0)
    base_url = request.getfixturevalue("tcp_base_url")
    return ChatOpenAI(model=OFFLINE_MODEL, api_key="offline", base_url=base_url, streaming=True, stream_usage=True,
                      temperature=0, max_retries=0)


def prompt(text: str) -> list:
    return [SystemMessage(f"Preferences: tone=neutral; verbosity=normal\nToday is {TODAY.isoformat()}."),
            HumanMessage(text)]


async def test_text_streams_as_several_chunks(model: ChatOpenAI) -> None:
    bound = model.bind_tools(langchain_tools())
    chunks = [chunk async for chunk in bound.astream(prompt("what can you do?"))]
    texts = [c.content for c in chunks if c.content]
    assert len(texts) > 10
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert isinstance(full, AIMessageChunk)
    assert full.content.startswith("I can list your envelopes")
    assert full.usage_metadata and full.usage_metadata["output_tokens"] > 0
    assert full.response_metadata.get("finish_reason") == "stop"


async def test_tool_call_parses_into_ai_message(model: ChatOpenAI) -> None:
    bound = model.bind_tools(langchain_tools())
    message = await bound.ainvoke(prompt("send the NDA template to bob@example.com and cc alice@example.com"))
    assert isinstance(message, AIMessage)
    (call,) = message.tool_calls
    assert call["name"] == "send_template" and call["id"].startswith("call_")
    args = validate("send_template", call["args"])
    assert args.template == "NDA"
    assert [(p.name, p.email) for p in args.recipients] == [("Bob", "bob@example.com")]
    assert [(p.name, p.email) for p in args.cc] == [("Alice", "alice@example.com")]


async def test_tool_call_streams_as_chunks(model: ChatOpenAI) -> None:
    bound = model.bind_tools(langchain_tools())
    chunks = [c async for c in bound.astream(prompt(f"download the certificate of completion for {GUID}"))]
    fragments = [tc for c in chunks for tc in c.tool_call_chunks]
    assert len(fragments) > 3
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    (call,) = full.tool_calls
    assert call["name"] == "download_document"
    validate("download_document", call["args"])
    assert call["args"] == {"envelope_id": GUID, "document": "certificate"}


async def test_agent_loop_with_tool_messages(model: ChatOpenAI) -> None:
    """A hand-run agent loop: the model looks up, acts, then answers from the tool results (here the envelope
    was completed between the lookup and the void)."""
    bound = model.bind_tools(langchain_tools())
    messages = prompt("void the envelope I sent to bob@x.com because the deal fell through")
    results = {
        "list_envelopes": {"summary": "Found 1 envelope.", "envelopes": [
            {"envelopeId": GUID, "status": "sent", "emailSubject": "MSA"}]},
        "void_envelope": {"error": "ENVELOPE_CANNOT_VOID_INVALID_STATE",
                          "message": "The envelope can't be voided because it is already completed."},
    }
    names = []
    for _ in range(4):
        reply = await bound.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            validate(call["name"], call["args"])
            names.append(call["name"])
            messages.append(ToolMessage(json.dumps(results[call["name"]]), tool_call_id=call["id"]))
    assert names == ["list_envelopes", "void_envelope"]
    assert messages[-1].content == "The envelope can't be voided because it is already completed."


async def test_non_streaming_client_too(model: ChatOpenAI) -> None:
    plain = model.model_copy(update={"streaming": False})
    reply = await plain.bind_tools(langchain_tools()).ainvoke(prompt(f"who hasn't signed {GUID}"))
    assert reply.tool_calls == [{"name": "get_envelope_status", "args": {"envelope_id": GUID},
                                 "id": reply.tool_calls[0]["id"], "type": "tool_call"}]
    assert reply.usage_metadata["total_tokens"] > 0


async def test_unknown_model_is_an_openai_error(model: ChatOpenAI) -> None:
    import openai

    wrong = model.model_copy(update={"model_name": "gpt-unknown"})
    with pytest.raises(openai.NotFoundError) as caught:
        await wrong.ainvoke(prompt("hello"))
    assert caught.value.status_code == 404 and caught.value.code == "model_not_found"
