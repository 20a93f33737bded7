"""Record what `langgraph dev` answers to every langgraph-sdk call (and to the calls useStream makes), for
tests/test_conformance.py to compare our server with.

    uv run python scripts/record_conformance.py [--node-modules DIR]

Starts `langgraph dev` on tests/specs/conformance/langgraph.json (the same graphs our tests serve), runs
`tests/conformance_drive.drive` against it and writes tests/specs/conformance/langgraph_dev.json. With
`--node-modules` (a folder holding @langchain/langgraph-sdk, e.g. after `npm install @langchain/langgraph-sdk`
in a scratch folder), it also runs tests/specs/conformance/usestream.mjs, the JS SDK's calls as useStream makes
them, against the same server, and writes every request it sent with the peer's answer to usestream.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from langgraph_sdk import get_client

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conformance_drive import drive  # noqa: E402

SPECS = REPO / "tests" / "specs" / "conformance"


def start_langgraph_dev(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
           "PYTHONPATH": str(REPO)}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "langgraph"), "dev", "--port", str(port),
                             "--no-browser", "--no-reload", "--config", str(SPECS / "langgraph.json")],
                            cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(0.3)


def run_usestream(url: str, node_modules: Path) -> list[dict]:
    """ES modules resolve packages beside the script, so it runs from a copy next to `node_modules`."""
    script = node_modules.parent / "usestream.mjs"
    shutil.copyfile(SPECS / "usestream.mjs", script)
    out = subprocess.run(["node", str(script), url], capture_output=True, cwd=node_modules.parent, timeout=300)
    if out.returncode:
        raise RuntimeError(out.stderr.decode()[-3000:])
    return json.loads(out.stdout)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=2029)
    parser.add_argument("--node-modules", type=Path)
    args = parser.parse_args()
    log = Path(tempfile.gettempdir()) / "langgraph-dev-conformance.log"
    proc = start_langgraph_dev(args.port, log)
    try:
        url = f"http://127.0.0.1:{args.port}"
        rec = await drive(get_client(url=url, timeout=120))
        (SPECS / "langgraph_dev.json").write_text(json.dumps(rec.answers, indent=1, sort_keys=True) + "\n")
        if args.node_modules:
            calls = run_usestream(url, args.node_modules)
            (SPECS / "usestream.json").write_text(json.dumps(calls, indent=1) + "\n")
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    asyncio.run(main())
