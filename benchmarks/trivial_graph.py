"""The smallest graph that exercises a server the way an agent does: model → tool → model, with no I/O.

A turn is one user message: the model streams a tool call, the tool answers, the model streams a short reply
of a few tokens. Everything is deterministic and in memory, so what a benchmark measures through a server is
that server's own cost (HTTP, runs, streaming, checkpoints), not a model's or a network's.

Served by our server and by `langgraph dev` from `benchmarks/langgraph.json` (graph id `trivial`), and run
in-process by `benchmarks/api_bench.py` as the limit a server can approach.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

REPLY_TOKENS = ("The ", "time ", "in ", "UTC ", "is ", "noon", ".")


@tool
def clock(zone: str) -> str:
    """The time in a time zone (fixed, so every turn does the same work)."""
    return f"12:00 in {zone}"


class FakeToolModel(BaseChatModel):
    """Calls `clock` once after each user message, then answers in a few streamed tokens."""

    @property
    def _llm_type(self) -> str:
        return "fake-tool-model"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> FakeToolModel:
        return self

    def _reply(self, messages: list[BaseMessage]) -> tuple[list[str], list[dict[str, Any]]]:
        last = messages[-1] if messages else None
        if isinstance(last, ToolMessage):
            return list(REPLY_TOKENS), []
        turn = sum(isinstance(m, HumanMessage) for m in messages)
        return [], [{"name": "clock", "args": {"zone": "UTC"}, "id": f"call_{turn}", "type": "tool_call"}]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        tokens, calls = self._reply(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage("".join(tokens), tool_calls=calls))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self._chunks(messages)

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[ChatGenerationChunk]:
        tokens, calls = self._reply(messages)
        for token in tokens:
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))
        for index, call in enumerate(calls):
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[
                {"name": call["name"], "args": '{"zone": "UTC"}', "id": call["id"], "index": index,
                 "type": "tool_call_chunk"}]))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last"))


model = FakeToolModel().bind_tools([clock])


async def call_model(state: MessagesState) -> dict[str, Any]:
    return {"messages": [await model.ainvoke(state["messages"])]}


def builder() -> StateGraph:
    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode([clock]))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition, ["tools", END])
    graph.add_edge("tools", "model")
    return graph


graph = builder().compile(name="trivial")
