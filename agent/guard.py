"""What a client may not write into an agent thread from outside a run: the approval path.

The tool node acts only on an approval the gate recorded (`db/approvals.py`), so a forged state cannot reach
DocuSign; these checks make the API say so plainly (422, nothing stored) instead of storing a state that will
only be refused later. A client may update the thread as the model (or as input), and a run's command may
resume, update messages and go to the model or the gate (where a person decides). It may not update as the
gate or the tool node, send a run straight to the tool node, or write the fields the graph keeps for itself
(the preferences the gate reads this turn, and `approved`, which older versions trusted).

The checks apply to graphs built on the agent's state (`AgentState`); other graphs have no approval path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Send

from agent.state import AgentState

# Nodes only the graph itself enters: updating "as" them, or sending a run to them, would skip the gate.
GRAPH_ONLY_NODES = frozenset({"tools"})
# Nodes a client may not impersonate in a state update (the gate's writes are decisions).
NOT_AS_NODES = frozenset({"gate", "tools"})
# State fields the graph writes for itself.
PROTECTED_FIELDS = frozenset({"approved", "preferences"})


class RefusedUpdate(ValueError):
    """A state update or command that would stand in for a person's decision; `field` names what to change."""

    code = "approval_required"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def guarded(graph: Any) -> bool:
    """Whether the graph has the agent's approval path (it keeps `AgentState`)."""
    schema = getattr(getattr(graph, "builder", None), "state_schema", None)
    return schema is AgentState


def _fields(values: Any) -> set[str]:
    if isinstance(values, Mapping):
        return {str(k) for k in values}
    if isinstance(values, list | tuple):  # [(key, value), ...]
        return {str(item[0]) for item in values if isinstance(item, list | tuple) and item and isinstance(item[0], str)}
    return set()


def _check_fields(values: Any, field: str) -> None:
    touched = sorted(_fields(values) & PROTECTED_FIELDS)
    if touched:
        raise RefusedUpdate(
            f"{field} may not set {', '.join(touched)}: the agent keeps these itself, and approvals are given only "
            "by answering the approval request (command.resume). Nothing was stored.", field=field)


def check_update(graph: Any, values: Any, as_node: str | None, *, field: str = "values",
                 inferred: str | None = None) -> None:
    """Refuse an update as the gate or the tool node, or one writing protected fields. `inferred` is the node
    LangGraph would pick when `as_node` is None (see `infer_as_node`)."""
    if not guarded(graph):
        return
    node = as_node if as_node is not None else inferred
    if node in NOT_AS_NODES:
        where = "as_node" if as_node is not None else f"as_node (left out, it means {node!r} here)"
        raise RefusedUpdate(
            f"{where}: a state update cannot act as the {node!r} node, since only the approval gate records a "
            "person's decision and only the graph runs tools. Update as 'model' and the gate will ask for approval; "
            "nothing was stored.", field="as_node")
    if isinstance(values, Command):
        check_command(graph, {"update": values.update, "goto": values.goto}, field=field)
        return
    if node == "__copy__" and isinstance(values, list):
        for n, item in enumerate(values):
            if isinstance(item, list | tuple) and len(item) >= 2:
                check_update(graph, item[0], item[1], field=f"{field}[{n}]")
        return
    _check_fields(values, field)


async def infer_as_node(graph: Any, config: RunnableConfig) -> str | None:
    """The node an update with no `as_node` is applied as: the one LangGraph infers from the checkpoint."""
    saved = await graph.checkpointer.aget_tuple(config) if graph.checkpointer is not None else None
    infer = getattr(graph, "_infer_as_node", None)
    if saved is None or infer is None:
        return None
    return infer(saved.checkpoint.get("versions_seen", {}))  # type: ignore[no-any-return]


def _targets(goto: Any) -> list[str]:
    items = goto if isinstance(goto, list | tuple) else [goto]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, Send):
            names.append(item.node)
        elif isinstance(item, Mapping) and isinstance(item.get("node"), str):
            names.append(item["node"])
    return names


def check_command(graph: Any, command: Mapping[str, Any], *, field: str = "command") -> None:
    """Refuse a command that goes straight to the tool node or writes protected fields."""
    if not guarded(graph):
        return
    goto = command.get("goto")
    skipped = sorted(set(_targets(goto)) & GRAPH_ONLY_NODES) if goto else []
    if skipped:
        raise RefusedUpdate(
            f"{field}.goto may not send the run to {', '.join(map(repr, skipped))}: tools run only after the "
            "approval gate. Go to 'model' or 'gate' instead; nothing was stored.", field=f"{field}.goto")
    if command.get("update") is not None:
        _check_fields(command["update"], f"{field}.update")
