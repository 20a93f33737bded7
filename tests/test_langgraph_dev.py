"""`langgraph dev` (langgraph-cli[inmem]) loads langgraph.json and answers a run of the real graph."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from langgraph_sdk import get_client

from docusign_agent.settings import Settings
from tests.conftest import REPO
from tests.servers import free_port


async def test_langgraph_dev_serves_the_graph(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": str(settings.database_url), "DATA_DIR": str(tmp_path / "data"),
           "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false"}
    env.pop("REDIS_URL", None)
    log = (tmp_path / "langgraph-dev.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "langgraph"), "dev", "--port", str(port),
                             "--no-browser", "--no-reload"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "langgraph-dev.log").read_text()
            time.sleep(0.3)
        client = get_client(url=f"http://127.0.0.1:{port}")
        assert [a["graph_id"] for a in await client.assistants.search()] == ["agent"]
        thread = await client.threads.create()
        result = await client.runs.wait(thread["thread_id"], "agent",
                                        input={"messages": [{"role": "user", "content": "what templates do I have"}]})
        messages = result["messages"]
        assert messages[-1]["type"] == "ai" and "Mutual NDA" in messages[-1]["content"], messages
        assert any(m["type"] == "tool" and m["name"] == "list_templates" for m in messages)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
