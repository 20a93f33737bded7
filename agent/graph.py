"""The agent graph: model → approval gate → tools → model, until the model answers (the gate only when a call
needs a person).

`graph` (no checkpointer) is what `langgraph dev` serves from langgraph.json; our server compiles the same
builder with its Postgres checkpointer through `build_graph`. Every node takes what it acts with from the run's
context (`agent/context.py`), or from the `langgraph dev` fallback when the run brought none.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime, get_runtime

from agent.approval import apply_decisions, ask, checked, pending_approvals, record_decisions
from agent.context import Dependencies, RunContext, tool_context
from agent.prompts import assistant_settings, system_prompt
from agent.standalone import shared_dependencies
from agent.state import AgentState
from db import approvals, audit
from tools.base import as_langchain_tool, execute
from tools import memory
from tools.common import preferences
from tools.context import ToolContext
from tools.registry import ALL, BY_NAME
from tools.results import dumps, redact


async def dependencies(runtime: Runtime[RunContext] | None) -> Dependencies:
    """The run's dependencies: from its context, or (outside our server) the process's fallback."""
    context = runtime.context if runtime is not None else None
    if isinstance(context, RunContext) and context.dependencies is not None:
        return context.dependencies
    return await shared_dependencies()


async def _context_for(config: RunnableConfig) -> ToolContext:
    runtime = get_runtime(RunContext)
    return tool_context(await dependencies(runtime), config, store=runtime.store)


TOOLS = [as_langchain_tool(spec, _context_for) for spec in ALL]
# In OpenAI's format once: binding ready definitions per model call costs microseconds, converting 19 schemas
# would cost more than the offline model's whole answer.
TOOL_DEFINITIONS = [convert_to_openai_tool(tool) for tool in TOOLS]


def _last_ai(state: AgentState) -> AIMessage | None:
    for message in reversed(state["messages"]):
        if isinstance(message, AIMessage):
            return message
    return None


def _answered(state: AgentState) -> set[str]:
    return {m.tool_call_id for m in state["messages"] if isinstance(m, ToolMessage)}


async def call_model(state: AgentState, config: RunnableConfig, runtime: Runtime[RunContext]) -> dict[str, Any]:
    deps = await dependencies(runtime)
    prefs, memories = await asyncio.gather(preferences(tool_context(deps, config)), memory.recall(runtime.store))
    model = deps.chat_model.bind_tools(TOOL_DEFINITIONS)
    prompt = system_prompt(prefs, memories=memories.prompt_line(),
                           assistant=assistant_settings((config or {}).get("configurable")))
    reply = await model.ainvoke([SystemMessage(prompt), *state["messages"]], config)
    return {"messages": [reply], "preferences": {"confirm_reminders": prefs.confirm_reminders}}


def confirm_reminders(state: AgentState) -> bool:
    return bool((state.get("preferences") or {}).get("confirm_reminders", True))


def after_model(state: AgentState) -> Literal["gate", "tools", "__end__"]:
    """Calls a person must decide on go through the gate; calls that need no one go straight to the tools,
    saving a superstep and its checkpoint per tool round. The tool node checks every call's approval record
    itself, so this routing is a shortcut, never the guard."""
    message = _last_ai(state)
    if message is None or not message.tool_calls:
        return END
    return "gate" if pending_approvals(message, confirm_reminders=confirm_reminders(state)) else "tools"


async def gate(state: AgentState, config: RunnableConfig, runtime: Runtime[RunContext]) -> dict[str, Any]:
    message = _last_ai(state)
    assert message is not None
    ctx = tool_context(await dependencies(runtime), config)
    calls = pending_approvals(message, confirm_reminders=confirm_reminders(state))
    if not calls:
        return {}
    # A call that can only fail (bad arguments, unknown template or document) is answered with its error and
    # never shown to a person; the model gets the error and can correct itself.
    askable, failed = await checked(calls, ctx)
    decisions = await ask(askable, ctx) if askable else []  # interrupts the run until a person decides
    asked = [call for call, _ in askable]
    updated, replies, approved, rejected = apply_decisions(message, asked, decisions)
    refused = {m.tool_call_id: m for m in failed}
    async with ctx.database.user_session(ctx.user_id) as session:
        # Written once the decisions are in: code before interrupt() runs again when the run resumes. The
        # decisions go to the approval record, the only thing the tool node trusts (not the graph's state).
        await record_decisions(session, ctx, asked, approved, updated or message)
        for call in calls:
            if call["id"] in refused:
                await _audit(session, ctx, call, actor="agent", status="failed")
        for call, _ in rejected:
            await _audit(session, ctx, call, actor="user", status="rejected")
    messages: list[Any] = [updated] if updated is not None else []
    return {"messages": [*messages, *failed, *replies]}


async def _audit(session: Any, ctx: ToolContext, call: dict[str, Any], *, actor: str, status: str,
                 error_code: str | None = None, error_message: str | None = None) -> None:
    envelope_id = call["args"].get("envelope_id")
    await audit.start(
        session, user_id=ctx.user_id, actor=actor, operation=call["name"], arguments=redact(call["args"]),
        status=status, thread_id=ctx.thread_id, run_id=ctx.run_id, tool_call_id=call["id"],
        envelope_id=envelope_id if isinstance(envelope_id, str) else None,
        error_code=error_code, error_message=error_message,
    )


async def _take_approval(ctx: ToolContext, call: dict[str, Any]) -> dict[str, Any] | None:
    """Consume the person's approval of exactly this call; without one, the refusal (audited) instead."""
    async with ctx.database.user_session(ctx.user_id) as session:
        if await approvals.consume(session, user_id=ctx.user_id, thread_id=ctx.thread_id, tool_call_id=call["id"],
                                   args=call["args"]):
            return None
        message = (f"{call['name']} needs the user's approval of these exact arguments first, and there is none "
                   "on record for this call; nothing was done.")
        await _audit(session, ctx, call, actor="agent", status="failed", error_code="not_approved",
                     error_message=message)
    return {"error": "not_approved", "message": message}


async def run_tools(state: AgentState, config: RunnableConfig, runtime: Runtime[RunContext]) -> dict[str, Any]:
    message = _last_ai(state)
    assert message is not None
    answered = _answered(state)
    deps = await dependencies(runtime)
    confirm = confirm_reminders(state)

    async def one(call: dict[str, Any]) -> ToolMessage:
        spec = BY_NAME.get(call["name"])
        ctx = tool_context(deps, config, call["id"], store=runtime.store)
        refusal: dict[str, Any] | None = None
        if spec is None:
            refusal = {"error": "unknown_tool", "message": f"There is no tool called {call['name']}."}
        elif spec.needs_approval(call["args"], confirm_reminders=confirm):
            refusal = await _take_approval(ctx, call)
        if refusal is not None:
            payload = refusal
        else:
            assert spec is not None
            started = time.perf_counter()
            payload = await execute(spec, call["args"], ctx)
            # How long the call took, for people reading the conversation (the model never sees metadata).
            metadata = {"duration_ms": round((time.perf_counter() - started) * 1000)}
            await memory.learn(runtime.store, spec.name, call["args"], payload)
            return ToolMessage(dumps(payload), tool_call_id=call["id"], name=call["name"], response_metadata=metadata,
                               status="error" if "error" in payload else "success")
        return ToolMessage(dumps(payload), tool_call_id=call["id"], name=call["name"],
                           status="error" if "error" in payload else "success")

    pending = [c for c in message.tool_calls if c["id"] not in answered]
    results = await asyncio.gather(*(one(c) for c in pending))
    return {"messages": list(results)}


def builder() -> StateGraph:
    graph = StateGraph(AgentState, context_schema=RunContext)
    graph.add_node("model", call_model)
    graph.add_node("gate", gate)
    graph.add_node("tools", run_tools)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", after_model, ["gate", "tools", END])
    graph.add_edge("gate", "tools")
    graph.add_edge("tools", "model")
    return graph


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    return builder().compile(checkpointer=checkpointer, name="agent")


graph = build_graph()

__all__ = ["TOOLS", "TOOL_DEFINITIONS", "build_graph", "builder", "dependencies", "graph"]
