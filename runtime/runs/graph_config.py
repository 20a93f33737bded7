"""Graphs from a `langgraph.json`, read the way `langgraph dev` reads it, so a user's own graphs are served beside
`agent` by the same runs, streams and checkpoints, each as the assistant of the same id.

The file is loaded, every module imported and every graph found before the server listens: a bad entry is one
`GraphConfigError` sentence at start-up (the CLI prints it and exits 2), never a 500 on a user's first run.
File paths are relative to the config file, and its local `dependencies` go on the import path (what
`langgraph dev` gets by installing them); a compiled graph is copied with our checkpointer, a StateGraph
compiled with it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from runtime.runs.graphs import NAMESPACE_GRAPH, GraphBuilder, GraphRegistry


class GraphConfigError(Exception):
    """A langgraph.json that cannot be served, in one sentence naming the file and the entry."""


DEFAULT_CONFIG = Path("langgraph.json")


def registry_for(config: Path | None) -> GraphRegistry:
    """The graphs `serve` runs: those `config` names; with no config, ./langgraph.json if there is one (as
    `langgraph dev` reads it), else the product's `agent` graph alone."""
    if config is None:
        if not DEFAULT_CONFIG.is_file():
            return GraphRegistry()
        config = DEFAULT_CONFIG
    return GraphRegistry(load_graph_config(config))


def load_graph_config(path: Path) -> dict[str, GraphBuilder]:
    """Read a langgraph.json and import each graph it names; raise GraphConfigError saying what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise GraphConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        config = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        raise GraphConfigError(f"{path}: graph id {exc.key!r} is named twice; each graph id must be unique") from None
    except json.JSONDecodeError as exc:
        raise GraphConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    graphs = config.get("graphs") if isinstance(config, dict) else None
    if not isinstance(graphs, dict) or not graphs:
        raise GraphConfigError(f'{path}: needs a "graphs" object naming at least one graph, e.g. '
                               '{"graphs": {"agent": "./agent/graph.py:graph"}}')
    base = path.resolve().parent
    for dependency in config.get("dependencies") or []:
        # langgraph dev installs local dependencies; here they go on the import path, which is what that buys.
        if isinstance(dependency, str) and dependency.startswith("."):
            folder = str((base / dependency).resolve())
            if folder not in sys.path:
                sys.path.append(folder)
    builders: dict[str, GraphBuilder] = {}
    aliases = {str(uuid.uuid5(NAMESPACE_GRAPH, gid)) for gid in graphs}
    for graph_id, spec in graphs.items():
        if not graph_id or graph_id in aliases:
            raise GraphConfigError(f"{path}: graph id {graph_id!r} cannot be used as an assistant id")
        builders[graph_id] = _builder(_load_object(path, base, graph_id, spec), path, graph_id)
    return builders


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _load_object(path: Path, base: Path, graph_id: str, spec: Any) -> Any:
    where = f"{path}: graph {graph_id!r}"
    if isinstance(spec, dict):
        spec = spec.get("path")
    if not isinstance(spec, str) or ":" not in spec:
        raise GraphConfigError(f"{where}: expected 'path/to/file.py:variable' or 'package.module:variable', "
                               f"got {spec!r}")
    target, _, variable = spec.rpartition(":")
    try:
        if target.endswith(".py") or "/" in target:
            file = (base / target).resolve()
            if not file.is_file():
                raise GraphConfigError(f"{where}: {target} does not exist (relative to {base})")
            module = _import_file(file)
        else:
            module = importlib.import_module(target)
    except GraphConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module: any failure is reported, not raised
        raise GraphConfigError(f"{where}: importing {target} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, variable):
        raise GraphConfigError(f"{where}: {target} has no {variable!r}")
    return getattr(module, variable)


def _import_file(file: Path) -> Any:
    """Import by its dotted name when the file lies on the import path (one module object, as `import` gives),
    else under a name of its own."""
    for root in sorted({Path(p).resolve() for p in sys.path if p}, key=lambda r: len(r.parts)):
        if root in file.parents:
            parts = file.relative_to(root).with_suffix("").parts
            if not all(part.isidentifier() for part in parts):
                continue
            try:
                found = importlib.util.find_spec(".".join(parts))
            except (ImportError, ValueError):
                continue
            if found is not None and found.origin and Path(found.origin).resolve() == file:
                return importlib.import_module(".".join(parts))
    name = "_graph_" + "__".join(file.with_suffix("").parts[-3:]).replace("-", "_")
    module_spec = importlib.util.spec_from_file_location(name, file)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


def _builder(graph: Any, path: Path, graph_id: str) -> GraphBuilder:
    """Our checkpointer replaces whatever the graph was compiled with, as langgraph-api does."""
    if isinstance(graph, Pregel):
        return lambda checkpointer: graph.copy(update={"checkpointer": checkpointer})
    if isinstance(graph, StateGraph):
        return lambda checkpointer: graph.compile(checkpointer=checkpointer, name=graph_id)
    kind = "a function (graph factories are not supported: export the compiled graph)" if callable(graph) \
        else f"a {type(graph).__name__}"
    raise GraphConfigError(f"{path}: graph {graph_id!r} is {kind}, not a compiled graph or a StateGraph")
