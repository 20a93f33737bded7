"""Which graphs this server runs: a registry `graph_id -> builder(checkpointer) -> compiled graph`.

The runtime takes any compiled LangGraph graph: `serve` fills the registry from langgraph.json
(`runtime/runs/graph_config.py`), and tests can serve a small graph of their own beside the product's `agent`. Each graph is the assistant of the same id (the LangGraph server convention, and what
agent-chat-ui's "assistant id: agent" means); the UUID langgraph-api derives for a graph's default assistant is
accepted as an alias, so clients that saved one keep working.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel
from pydantic import PydanticUserError, TypeAdapter

log = logging.getLogger(__name__)

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

    def schemas(self, graph_id: str, graph: Pregel) -> dict[str, Any]:
        """The assistant's JSON schemas as LangGraph clients read them. The state schema is the type the graph
        keeps (a StateGraph's state); a schema the graph's types cannot produce is null, with a log line saying
        why, rather than a failed request."""

        def schema(kind: str, build: Callable[[], Any]) -> Any:
            try:
                return build()
            except (PydanticUserError, ValueError) as exc:  # a type pydantic cannot describe as JSON schema
                log.warning("graph %s has no %s schema: %s", graph_id, kind, exc)
                return None

        state_type = getattr(getattr(graph, "builder", None), "state_schema", None)
        return {
            "graph_id": graph_id,
            "input_schema": schema("input", graph.get_input_jsonschema),
            "output_schema": schema("output", graph.get_output_jsonschema),
            "state_schema": schema("state", lambda: TypeAdapter(state_type).json_schema()) if state_type else None,
            "config_schema": None,
            "context_schema": schema("context", graph.get_context_jsonschema),
        }
