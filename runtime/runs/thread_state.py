"""A thread's graph state (from the checkpointer) in the shape LangGraph clients read: `ThreadState`.

Reading state needs the thread's graph (for its channels and reducers); the graph id was merged into the
thread's metadata by its first run, and `agent` is assumed before that.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import StateSnapshot


def checkpoint_of(config: dict[str, Any] | None) -> dict[str, Any] | None:
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    checkpoint = {"thread_id": str(configurable["thread_id"]), "checkpoint_ns": configurable.get("checkpoint_ns") or "",
                  "checkpoint_id": configurable["checkpoint_id"]}
    if "checkpoint_map" in configurable:
        checkpoint["checkpoint_map"] = configurable["checkpoint_map"]
    return checkpoint


def interrupt_json(interrupt: Any) -> dict[str, Any]:
    return {"id": interrupt.id, "value": interrupt.value}


def state_json(state: StateSnapshot) -> dict[str, Any]:
    tasks = []
    for task in state.tasks:
        tasks.append({
            "id": task.id,
            "name": task.name,
            "path": list(task.path) if task.path else [],
            "error": None if task.error is None else f"{type(task.error).__name__}: {task.error}",
            "interrupts": [interrupt_json(i) for i in task.interrupts],
            "checkpoint": task.state["configurable"] if isinstance(task.state, dict) else None,
            "state": state_json(task.state) if isinstance(task.state, StateSnapshot) else None,
            "result": task.result,
        })
    parent = checkpoint_of(state.parent_config)  # type: ignore[arg-type]
    current = checkpoint_of(state.config)  # type: ignore[arg-type]
    return {
        "values": state.values if state.values is not None else {},
        "next": list(state.next),
        "tasks": tasks,
        "metadata": state.metadata,
        "created_at": state.created_at,
        "checkpoint": current,
        "parent_checkpoint": parent,
        "interrupts": [interrupt_json(i) for i in state.interrupts],
        "checkpoint_id": current["checkpoint_id"] if current else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def thread_config(thread_id: str, checkpoint: dict[str, Any] | None = None,
                  checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint:
        configurable.update({k: v for k, v in checkpoint.items() if v is not None and k != "thread_id"})
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}
