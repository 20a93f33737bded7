"""A run reads its final state from what it stored last: the same tuple Postgres would return, or Postgres.

`PooledPostgresSaver.remembering()` keeps the last root checkpoint a run stored and the writes against it; the
executor trusts it once the run has completed (agent/checkpoint_memo.py). Each test runs a real graph on the
real saver and compares the remembered answer with a fresh read of the same rows by another saver.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypedDict

import pytest

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt

from agent.checkpointer import PooledPostgresSaver, make_checkpointer, open_pool
from db.urls import APP_ROLE, with_user
from tests.conftest import DatabaseFactory


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]
    notes: Annotated[list[str], operator.add]
    count: int


def fork(state: type, checkpointer: PooledPostgresSaver, first: Any, side: Any, ask: Any) -> Any:
    """`first`, then two parallel tasks: `side` writes and finishes, `ask` asks a person (interrupt)."""
    builder = StateGraph(state)
    for name, node in (("first", first), ("side", side), ("ask", ask)):
        builder.add_node(name, node)
    builder.add_edge(START, "first")
    for name in ("side", "ask"):
        builder.add_edge("first", name)
        builder.add_edge(name, END)
    return builder.compile(checkpointer=checkpointer)


def build(checkpointer: PooledPostgresSaver) -> Any:
    """A model-like node, then a note that finishes beside a question that waits for a person."""

    def answer(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"seen {len(state['messages'])}")], "count": state.get("count", 0) + 1}

    def note(state: State) -> dict[str, Any]:
        return {"notes": [f"note {state['count']}"]}

    def ask(state: State) -> dict[str, Any]:
        decision = interrupt({"question": "go on?", "count": state["count"]})
        return {"notes": [f"decided {decision}"]}

    return fork(State, checkpointer, answer, note, ask)


def extend_in_place(left: list[str], right: list[str]) -> list[str]:
    left.extend(right)  # a reducer that changes the stored list itself
    return left


class InPlace(TypedDict):
    log: Annotated[list[str], extend_in_place]


def build_in_place(checkpointer: PooledPostgresSaver) -> Any:
    """A node that changes its state in place before asking, beside a task that finishes (its write pending)."""

    def first(state: InPlace) -> dict[str, Any]:
        return {"log": ["first"]}

    def side(state: InPlace) -> dict[str, Any]:
        return {"log": ["side"]}

    def ask(state: InPlace) -> dict[str, Any]:
        state["log"].append("changed-before-interrupt")
        interrupt("go on?")
        return {}

    return fork(InPlace, checkpointer, first, side, ask)


def comparable(tuple_: Any) -> dict[str, Any]:
    return {"config": tuple_.config, "parent_config": tuple_.parent_config, "metadata": tuple_.metadata,
            "checkpoint": tuple_.checkpoint, "pending_writes": tuple_.pending_writes}


def comparable_state(snapshot: Any) -> dict[str, Any]:
    return {"values": snapshot.values, "next": snapshot.next, "config": snapshot.config,
            "metadata": snapshot.metadata, "parent_config": snapshot.parent_config,
            "interrupts": [(i.id, i.value) for i in snapshot.interrupts],
            "tasks": [(t.id, t.name, [(i.id, i.value) for i in t.interrupts]) for t in snapshot.tasks]}


@pytest.fixture
async def base(db_factories: dict[str, DatabaseFactory], main_backend: str) -> AsyncIterator[PooledPostgresSaver]:
    """One user's saver on a fresh database, as the app role (row-level security on)."""
    pool = open_pool(with_user(db_factories[main_backend].create(), APP_ROLE, None), max_size=4)
    await pool.open()
    try:
        yield make_checkpointer(pool).for_user(uuid.uuid4())
    finally:
        await pool.close()


async def assert_the_memo_is_the_rows(saver: PooledPostgresSaver, base: PooledPostgresSaver,
                                      build_graph: Callable[[PooledPostgresSaver], Any], config: Any) -> Any:
    """Once trusted, the memo's latest checkpoint is what another saver reads from the rows, and the state a
    graph settles with is the same, interrupts and pending writes included, on a first and a second read (a
    read applies pending writes to what it was given). Returns the remembered tuple."""
    saver.trust_remembered()
    assert saver.memo is not None
    remembered = saver.memo.latest(config)
    stored = await base.aget_tuple(config)  # another saver: the rows themselves
    assert remembered is not None and stored is not None
    assert comparable(remembered) == comparable(stored)
    fresh = comparable_state(await build_graph(base).aget_state(config))
    graph = build_graph(saver)
    assert comparable_state(await graph.aget_state(config)) == fresh
    assert comparable_state(await graph.aget_state(config)) == fresh
    return remembered


async def test_a_completed_run_reads_back_what_postgres_holds_without_a_query(base: PooledPostgresSaver) -> None:
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    for turn, graph_input in enumerate([{"messages": [HumanMessage(content="hi")]}, Command(resume="yes"),
                                        {"messages": [HumanMessage(content="again")]}]):
        saver = base.remembering()
        graph = build(saver)
        async for _ in graph.astream(graph_input, config, durability="async"):
            pass
        assert saver.memo is not None and saver.memo.latest(config) is None  # not trusted yet: Postgres
        remembered = await assert_the_memo_is_the_rows(saver, base, build, config)
        if turn != 1:
            assert (await graph.aget_state(config)).interrupts, turn  # the interrupt is pending again
            assert [w[1] for w in remembered.pending_writes].count("notes") == 1  # the finished sibling


async def test_objects_changed_in_place_after_they_were_stored_are_not_what_the_memo_returns(
        base: PooledPostgresSaver) -> None:
    """The memo answers with what was stored, decoded afresh: not the live lists a node or a reducer changed
    after the checkpoint was written (with `sync` durability the rows hold the values before the change)."""
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    saver = base.remembering()
    async for _ in build_in_place(saver).astream({"log": []}, config, durability="sync"):
        pass
    await assert_the_memo_is_the_rows(saver, base, build_in_place, config)


async def test_what_the_memo_does_not_answer_goes_to_postgres(base: PooledPostgresSaver) -> None:
    """A given checkpoint id, another thread, and everything after a delete: read from the rows. (A memo not
    yet trusted, as after a failed or rolled-back run, reads Postgres too: the first test checks it.)"""
    thread = str(uuid.uuid4())
    config = {"configurable": {"thread_id": thread}}
    first = base.remembering()
    async for _ in build(first).astream({"messages": [HumanMessage(content="hi")]}, config):
        pass
    first.trust_remembered()
    assert first.memo is not None
    latest = first.memo.latest(config)
    assert latest is not None
    parent = latest.parent_config
    assert parent is not None
    assert first.memo.latest(parent) is None  # a given checkpoint id
    assert first.memo.latest({"configurable": {"thread_id": str(uuid.uuid4())}}) is None  # another thread
    by_id = await first.aget_tuple(parent)
    assert by_id is not None and by_id.config["configurable"]["checkpoint_id"] == \
        parent["configurable"]["checkpoint_id"]

    await first.adelete_thread(thread)  # forgotten: the thread is gone for this saver too
    assert await first.aget_tuple(config) is None
    assert await base.aget_tuple(config) is None
