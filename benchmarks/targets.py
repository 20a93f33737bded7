"""The servers a benchmark compares, started the way a person would start them, each on its own database.

- `ours`: `docusign-agent serve --config benchmarks/langgraph.json` (in-process bus), `ours-redis` (Redis bus),
  `ours-redis-x2` (`--workers 2` on Redis, with one emulator served apart, counted with the server);
- `langgraph-dev`: `langgraph dev` from `benchmarks/langgraph.json` (langgraph-cli[inmem], in memory);
- `aegra`: `aegra serve` (AUTH_TYPE=noop) from an `aegra` installed outside the repository (`--aegra-bin`);
  it serves the trivial graph only: the agent needs this project's own dependencies in Aegra's environment;
- `inprocess`: the compiled graph with an InMemorySaver in a process of its own (`benchmarks/inprocess.py`),
  driven over stdin: the limit any server of these graphs can approach.

Our variants (`--variant NAME=DIR[:BASE]`) start `serve` from another source tree (a prototype of a change)
with this environment's packages, so a change and its baseline are measured in the same run.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from api.auth import issue_token
from db.urls import with_database
from docusign_agent.settings import Settings
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[1]
OURS = {"ours": (1, False), "ours-redis": (1, True), "ours-redis-x2": (2, True)}
PEERS = ("langgraph-dev", "aegra", "inprocess")


@dataclass
class Target:
    name: str
    kind: str
    graphs: tuple[str, ...]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    port: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    database: str | None = None  # whose Postgres backends are counted
    body: dict[str, Any] = field(default_factory=dict)  # extra run-create fields (e.g. durability)
    uses_redis: bool = False
    base: str | None = None  # a variant: the target it is compared with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def roots(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Environment:
    """What all targets share: one Postgres (a database each), one Redis (a db number each), a secret."""

    admin_url: str
    redis_url: str | None
    workdir: Path
    aegra_bin: Path | None = None
    secret: str = field(default_factory=lambda: "bench-" + secrets.token_hex(16))
    databases: list[str] = field(default_factory=list)
    redis_dbs: int = 0

    def new_database(self, label: str) -> tuple[str, str]:
        name = f"dsa_bench_{label.replace('-', '_')}_{secrets.token_hex(3)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.databases.append(name)
        return name, with_database(self.admin_url, name)

    def next_redis(self) -> str:
        assert self.redis_url, "a Redis target needs --redis-url or redis-server on PATH"
        self.redis_dbs += 1
        return f"{self.redis_url.rsplit('/', 1)[0]}/{self.redis_dbs}"

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.databases:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def base_env(self, data_dir: Path, src: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "AUTH_", "PORT",
                                                                         "LANGGRAPH_CONFIG", "DOCUSIGN_EMULATOR"))}
        env.update({"DATA_DIR": str(data_dir), "AUTH_JWT_SECRET": self.secret, "LOG_LEVEL": "WARNING",
                    "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false", "PYTHONPATH": str(src),
                    # Every load-generator client comes from 127.0.0.1: the per-address limit is for real clients
                    # (fanout_bench holds 1,200 connections from that one address).
                    "MAX_CONNECTIONS_PER_CLIENT": "0"})
        return env

    def token(self, name: str) -> str:
        import uuid

        settings = Settings(auth_jwt_secret=self.secret, data_dir=self.workdir)
        user = uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{name}")
        return issue_token(settings, user, f"{name}@bench.example.com")


class PrivatePostgres:
    """A Postgres cluster of the benchmark's own (the machine's binaries, a free port, a temp directory): the
    machine's shared server has too few connection slots for six servers, and its CPU and statements would
    mix with whatever else runs there. `pg_stat_statements` is loaded and every statement can be logged."""

    def __init__(self, workdir: Path) -> None:
        import glob
        import shutil

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
        self.bin = Path(found[-1]).parent
        self.data = workdir / "pgdata"
        self.log = workdir / "postgres.log"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        workdir.chmod(0o755)
        if self.user:
            import pwd

            self.data.mkdir(mode=0o700)
            os.chown(self.data, pwd.getpwnam(self.user).pw_uid, -1)
            self.log.touch()
            os.chown(self.log, pwd.getpwnam(self.user).pw_uid, -1)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"])
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=600 "
                   "-c shared_buffers=256MB -c shared_preload_libraries=pg_stat_statements -c fsync=on "
                   "-c log_line_prefix='%m [%p] %q%u@%d '")
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str]) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run(prefix + args, check=True, capture_output=True)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])


def _log(env: Environment, name: str):  # type: ignore[no-untyped-def]
    return open(env.workdir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process


def _spawn(env: Environment, name: str, args: list[str], child_env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    log = _log(env, name)
    return subprocess.Popen(args, env=child_env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(target: Target, path: str = "/ok", timeout: float = 600) -> None:
    """Generous: a server importing LangChain on a machine busy with other test suites can take minutes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in target.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{target.name} exited with {proc.returncode}; see its log in the work directory")
        try:
            if httpx.get(f"{target.url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{target.name} did not answer {path} within {timeout:.0f}s")


def migrate(env: Environment, url: str, src: Path, data_dir: Path) -> None:
    child = {**env.base_env(data_dir, src), "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "cli.main", "migrate"], env=child, cwd=src, check=True,
                   capture_output=True)


def start_ours(env: Environment, name: str, kind: str, src: Path = REPO, body: dict[str, Any] | None = None,
               extra_env: dict[str, str] | None = None) -> Target:
    workers, redis = OURS[kind]
    data_dir = env.workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    database, url = env.new_database(name)
    migrate(env, url, src, data_dir)
    child = {**env.base_env(data_dir, src), "DATABASE_URL": url, **(extra_env or {})}
    target = Target(name, kind, ("trivial", "agent"), database=database, body=body or {})
    if redis:
        child["REDIS_URL"] = env.next_redis()
        target.uses_redis = True
    if workers > 1:
        emulator_port = free_port()
        target.procs.append(_spawn(env, f"{name}-emulator", [sys.executable, "-m", "cli.main", "emulator",
                                                             "--port", str(emulator_port)], child, data_dir))
        child["DOCUSIGN_EMULATOR_URL"] = f"http://127.0.0.1:{emulator_port}/_emulator"
    target.port = free_port()
    target.procs.insert(0, _spawn(env, name, [sys.executable, "-m", "cli.main", "serve", "--port",
                                              str(target.port), "--workers", str(workers), "--config",
                                              str(src / "benchmarks" / "langgraph.json")], child, data_dir))
    target.headers = {"Authorization": f"Bearer {env.token(name)}"}
    wait_ready(target)
    return target


def start_langgraph_dev(env: Environment, name: str = "langgraph-dev") -> Target:
    data_dir = env.workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    database, url = env.new_database(name)
    migrate(env, url, REPO, data_dir)  # the agent graph's own tables (audit, preferences, mirror)
    child = {**env.base_env(data_dir, REPO), "DATABASE_URL": url}
    target = Target(name, "langgraph-dev", ("trivial", "agent"), database=database, port=free_port())
    target.procs.append(_spawn(env, name, [str(Path(sys.executable).parent / "langgraph"), "dev", "--port",
                                           str(target.port), "--no-browser", "--no-reload", "--config",
                                           "langgraph.json"], child, REPO / "benchmarks"))
    wait_ready(target)
    return target


def start_aegra(env: Environment, name: str = "aegra") -> Target:
    assert env.aegra_bin is not None
    data_dir = env.workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    database, url = env.new_database(name)
    (data_dir / "aegra.json").write_text(json.dumps(
        {"graphs": {"trivial": str(REPO / "benchmarks" / "trivial_graph.py") + ":graph"}}))
    child = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS", "PYTHON", "VIRTUAL_ENV"))}
    child.update({"DATABASE_URL": url, "AUTH_TYPE": "noop", "LOG_LEVEL": "WARNING", "ENV_MODE": "PRODUCTION"})
    target = Target(name, "aegra", ("trivial",), database=database, port=free_port())
    target.procs.append(_spawn(env, name, [str(env.aegra_bin), "serve", "--host", "127.0.0.1", "--port",
                                           str(target.port), "--config", str(data_dir / "aegra.json")], child, data_dir))
    wait_ready(target, "/health")
    return target


def start_inprocess(env: Environment, name: str = "inprocess") -> Target:
    data_dir = env.workdir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    database, url = env.new_database(name)
    migrate(env, url, REPO, data_dir)
    child = {**env.base_env(data_dir, REPO), "DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.inprocess"], env=child, cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=_log(env, name))
    target = Target(name, "inprocess", ("trivial", "agent"), procs=[proc], database=database)
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if not ready.startswith(b"ready"):
        raise RuntimeError(f"{name} did not start; see its log in the work directory")
    return target
