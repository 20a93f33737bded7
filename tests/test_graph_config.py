"""Graphs from langgraph.json: every graph a file names is served as the assistant of the same id, and a file
that cannot be served stops `serve` with one line (exit 2) before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from docusign_agent.settings import Settings
from runtime.runs.graph_config import GraphConfigError, load_graph_config, registry_for
from runtime.runs.graphs import GraphRegistry
from tests.api_helpers import ApiServer, ServerThread, role_urls, runtime_options
from tests.conftest import REPO

BENCH_CONFIG = REPO / "benchmarks" / "langgraph.json"

GRAPH_FILE = '''
from langgraph.graph import END, START, MessagesState, StateGraph

def answer(state):
    return {"messages": [{"role": "assistant", "content": "hello from mine"}]}

builder = StateGraph(MessagesState)
builder.add_node("answer", answer)
builder.add_edge(START, "answer")
builder.add_edge("answer", END)
compiled = builder.compile()
not_a_graph = 42

def factory(config):
    return compiled
'''


def write_config(folder: Path, graphs: dict[str, str] | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "my_graphs.py").write_text(GRAPH_FILE)
    path = folder / "langgraph.json"
    path.write_text(graphs if isinstance(graphs, str) else json.dumps({"dependencies": ["."], "graphs": graphs}))
    return path


async def test_every_named_graph_is_loaded_with_our_checkpointer(tmp_path: Path) -> None:
    path = write_config(tmp_path / "project", {"mine": "./my_graphs.py:compiled", "built": "./my_graphs.py:builder",
                                               "trivial": "benchmarks.trivial_graph:graph"})
    registry = GraphRegistry(load_graph_config(path))
    assert registry.graph_ids == ["mine", "built", "trivial"]
    saver = InMemorySaver()
    for graph_id in registry.graph_ids:
        graph = registry.get(graph_id, saver)
        assert graph.checkpointer is saver
        result = await graph.ainvoke({"messages": [{"role": "user", "content": "hi"}]},
                                     {"configurable": {"thread_id": graph_id}})
        assert result["messages"][-1].content, graph_id
        assert await saver.aget_tuple({"configurable": {"thread_id": graph_id}}) is not None  # checkpointed by us
    result = await registry.get("mine", saver).ainvoke({"messages": []}, {"configurable": {"thread_id": "x"}})
    assert result["messages"][-1].content == "hello from mine"
    assert registry.resolve("mine") == "mine" and registry.resolve("agent") is None


def test_the_benchmark_config_names_the_agent_and_the_trivial_graph() -> None:
    registry = GraphRegistry(load_graph_config(BENCH_CONFIG))
    assert registry.graph_ids == ["agent", "trivial"]
    assert registry.get("agent", None).name == "agent"


def test_default_is_the_langgraph_json_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert registry_for(None).graph_ids == ["agent"]  # the repository's langgraph.json
    monkeypatch.chdir(tmp_path)
    assert registry_for(None).graph_ids == ["agent"]  # no file here: the product's graph alone
    write_config(tmp_path, {"mine": "./my_graphs.py:compiled"})
    assert registry_for(None).graph_ids == ["mine"]


@pytest.mark.parametrize(
    ("graphs", "expected"),
    [
        ({"mine": "./missing.py:graph"}, "graph 'mine': ./missing.py does not exist"),
        ({"mine": "./my_graphs.py:nope"}, "graph 'mine': ./my_graphs.py has no 'nope'"),
        ({"mine": "./my_graphs.py:not_a_graph"}, "graph 'mine' is a int, not a compiled graph"),
        ({"mine": "./my_graphs.py:factory"}, "graph 'mine' is a function (graph factories are not supported"),
        ({"mine": "no_such_package.module:graph"}, "importing no_such_package.module failed: ModuleNotFoundError"),
        ({"mine": "my_graphs.py"}, "expected 'path/to/file.py:variable'"),
        ({}, 'needs a "graphs" object'),
        ('{"graphs": {"mine": "./my_graphs.py:compiled", "mine": "./my_graphs.py:builder"}}',
         "graph id 'mine' is named twice"),
        ('{"graphs": {"mine": ', "not valid JSON"),
    ],
)
def test_bad_config_is_one_sentence(tmp_path: Path, graphs: dict[str, str] | str, expected: str) -> None:
    path = write_config(tmp_path / "project", graphs)
    with pytest.raises(GraphConfigError) as caught:
        load_graph_config(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_config_file() -> None:
    with pytest.raises(GraphConfigError, match="no such file"):
        registry_for(Path("/nonexistent/langgraph.json"))


def serve(*args: str, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "cli.main", "serve", "--port", "1", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", ["missing file", "bad reference", "duplicate id"])
def test_serve_refuses_a_bad_config_with_one_line(tmp_path: Path, case: str) -> None:
    if case == "missing file":
        path = tmp_path / "nowhere.json"
    elif case == "bad reference":
        path = write_config(tmp_path / "project", {"mine": "./my_graphs.py:nope"})
    else:
        path = write_config(tmp_path / "project", '{"graphs": {"a": "./my_graphs.py:compiled", '
                                                  '"a": "./my_graphs.py:compiled"}}')
    result = serve("--config", str(path), cwd=tmp_path, tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(path.name) in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "postgres").exists()  # refused before the database was started


# --- served: the trivial graph through the official SDK -------------------------------------------------------


@pytest.fixture(scope="module")
def bench_server(settings: Settings) -> Iterator[ApiServer]:
    from api.app import create_app

    options = runtime_options()
    options.graphs = None  # from the settings' langgraph_config, as `serve --config` does
    app = create_app(settings.model_copy(update={"langgraph_config": BENCH_CONFIG}),
                     role_urls(settings.database_url), runtime_options=options)  # type: ignore[arg-type]
    with ServerThread(app) as server:
        yield ApiServer(url=server.url, settings=settings)


async def test_the_trivial_graph_runs_through_langgraph_sdk(bench_server: ApiServer) -> None:
    client = bench_server.client("tess")
    assert sorted(a["assistant_id"] for a in await client.assistants.search()) == ["agent", "trivial"]
    assert (await client.assistants.get("trivial"))["graph_id"] == "trivial"
    thread = await client.threads.create()
    parts = [p async for p in client.runs.stream(thread["thread_id"], "trivial",
                                                  input={"messages": [{"role": "user", "content": "time?"}]},
                                                  stream_mode=["messages-tuple", "values"])]
    assert parts[0].event == "metadata" and parts[-1].event == "end" and parts[-1].data["status"] == "success"
    tokens = [p.data[0]["content"] for p in parts if p.event == "messages" and p.data[0]["type"] == "AIMessageChunk"]
    assert "".join(tokens) == "The time in UTC is noon."
    final = [p.data for p in parts if p.event == "values"][-1]
    assert [m["type"] for m in final["messages"]] == ["human", "ai", "tool", "ai"]
    state = await client.threads.get_state(thread["thread_id"])  # checkpointed in Postgres by our server
    assert state["values"]["messages"][-1]["content"] == "The time in UTC is noon." and state["next"] == []
    saved = await client.threads.get(thread["thread_id"])
    assert saved["metadata"]["graph_id"] == "trivial" and saved["status"] == "idle"
