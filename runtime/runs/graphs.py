"""Which graphs this server runs: a registry `graph_id -> builder(checkpointer) -> compiled graph`.

The runtime takes any compiled LangGraph graph, so tests can serve a small graph of their own beside the
product's `agent`. Each graph is the assistant of the same id (the LangGraph server convention, and what
agent-chat-ui's "assistant id: agent" means); the UUID langgraph-api derives for a graph's default assistant is
accepted as an alias, so clients that saved one keep working.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel

GraphBuilder = Callable[[BaseCheckpointSaver | None], Pregel]

# langgraph-api's namespace for default assistant ids (uuid5(namespace, graph_id)).
NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
DEFAULT_GRAPHS: dict[str, str] = {"agent": "agent.graph:build_graph"}
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class GraphUnavailable(Exception):
    """The graph's module could not be imported or built; the message says why."""


class GraphRegistry:
    def __init__(self, builders: Mapping[str, GraphBuilder | str] | None = None) -> None:
        self._builders: dict[str, GraphBuilder | str] = dict(builders if builders is not None else DEFAULT_GRAPHS)
        self._compiled: dict[str, Pregel] = {}
        self._aliases = {str(uuid.uuid5(NAMESPACE_GRAPH, gid)): gid for gid in self._builders}

    @property
    def graph_ids(self) -> list[str]:
        return list(self._builders)

    def resolve(self, assistant_id: str) -> str | None:
        """The graph id an assistant id names, or None if there is no such assistant."""
        if assistant_id in self._builders:
            return assistant_id
        return self._aliases.get(assistant_id)

    def get(self, graph_id: str, checkpointer: BaseCheckpointSaver | None) -> Pregel:
        """The compiled graph, built once per process (compiled graphs are safe to run concurrently)."""
        graph = self._compiled.get(graph_id)
        if graph is None:
            builder = self._builders[graph_id]
            try:
                if isinstance(builder, str):
                    module_name, _, attr = builder.partition(":")
                    builder = getattr(importlib.import_module(module_name), attr)
                graph = builder(checkpointer)  # type: ignore[operator]
            except Exception as exc:
                raise GraphUnavailable(f"graph {graph_id!r} could not be loaded: {type(exc).__name__}: {exc}") from exc
            self._compiled[graph_id] = graph
        return graph

    def assistant(self, graph_id: str) -> dict[str, Any]:
        return {
            "assistant_id": graph_id,
            "graph_id": graph_id,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "version": 1,
            "name": graph_id,
            "description": None,
            "created_at": _EPOCH.isoformat(),
            "updated_at": _EPOCH.isoformat(),
        }
