"""The model path and the analysis cache: ChatOpenAI streaming through the graph, zero model calls on a hit."""

from __future__ import annotations

import uuid

from agent_helpers import CONTRACT_LINES, Chat, make_pdf, tool_results
from langchain_core.messages import AIMessageChunk, HumanMessage
from sqlalchemy import func, select

from db.models import AnalysisResult
from docusign_agent.metrics import ANALYSIS_MODEL_CALLS as MODEL_CALLS



def model_calls() -> float:
    return sum(sample.value for metric in MODEL_CALLS.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


async def test_tokens_and_tool_call_deltas_stream_through_the_graph(chat: Chat) -> None:
    chunks: list[AIMessageChunk] = []
    async for message, metadata in chat.graph.astream({"messages": [HumanMessage("what templates do I have")]},
                                                      chat.config, context=chat.context, stream_mode="messages"):
        if isinstance(message, AIMessageChunk):
            chunks.append(message)
            assert metadata["langgraph_node"] == "model"
    tool_deltas = [c for c in chunks if c.tool_call_chunks]
    assert tool_deltas and tool_deltas[0].tool_call_chunks[0]["name"] == "list_templates"
    text_chunks = [c for c in chunks if isinstance(c.content, str) and c.content]
    assert len(text_chunks) > 3  # the answer arrives as many tokens, not one message
    assert "Mutual NDA" in "".join(c.content for c in text_chunks)


async def test_second_identical_analysis_makes_no_model_call(chat: Chat) -> None:
    content = make_pdf(CONTRACT_LINES)
    await chat.upload("contract.pdf", content)
    before = model_calls()
    state = await chat.say("summarize contract.pdf")
    first = tool_results(state)[-1][1]
    assert first["cached"] is False and model_calls() == before + 1

    state = await chat.say("summarize contract.pdf")
    second = tool_results(state)[-1][1]
    assert second["cached"] is True and second["analysis"] == first["analysis"]
    assert model_calls() == before + 1  # answered from analysis_results

    # Same bytes under another name hit the same cache entry (keyed by content hash).
    await chat.upload("copy-of-contract.pdf", content)
    state = await chat.say("summarize copy-of-contract.pdf")
    assert tool_results(state)[-1][1]["cached"] is True and model_calls() == before + 1

    state = await chat.say("risks in contract.pdf")  # another kind is another entry
    assert tool_results(state)[-1][1]["cached"] is False and model_calls() == before + 2
    async with chat.database.user_session(chat.user_id) as session:
        count = (await session.execute(select(func.count()).select_from(AnalysisResult))).scalar_one()
    assert count == 2


async def test_unknown_and_empty_documents_are_named(chat: Chat) -> None:
    state = await chat.say("summarize nothing-here.pdf")
    payload = tool_results(state)[-1][1]
    assert payload["error"] == "unknown_document" and payload["field"] == "document"
    await chat.upload("blank.pdf", [])
    state = await chat.say("summarize blank.pdf")
    payload = tool_results(state)[-1][1]
    assert payload["error"] == "empty_document"


async def test_users_do_not_share_the_analysis_cache(chat: Chat) -> None:
    from agent_helpers import Chat as ChatType
    from db import profiles
    await chat.upload("contract.pdf", CONTRACT_LINES)
    await chat.say("summarize contract.pdf")
    other_id = await profiles.ensure_user(chat.database, f"other-{uuid.uuid4().hex[:6]}@example.com")
    other = ChatType(chat.graph, chat.dependencies, other_id, chat.emulator)
    await other.upload("contract.pdf", CONTRACT_LINES)
    state = await other.say("summarize contract.pdf")
    assert tool_results(state)[-1][1]["cached"] is False


def test_tools_doc_is_current() -> None:
    from tests.conftest import REPO
    from tools.catalog import render

    assert (REPO / "docs" / "TOOLS.md").read_text() == render(), "run: uv run python -m tools.catalog > docs/TOOLS.md"
