"""What every benchmark here shares: a light HTTP/1.1 client that streams SSE, and CPU/memory from /proc.

The load generator shares two cores with the servers it measures, so it must cost little: one keep-alive
connection per conversation, no HTTP library, chunked bodies scanned for `event:` lines without parsing JSON.
CPU is read from /proc for a process tree (a server and its workers) or a set of Postgres backends; a process
that appears during a phase is counted whole, so pools that grow do not hide their work.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class HttpError(RuntimeError):
    pass


@dataclass
class Turn:
    first_byte: float
    total: float
    events: int


class Connection:
    """One keep-alive HTTP/1.1 connection: JSON requests, and SSE streams timed to the first body byte."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.headers = headers or {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _send(self, method: str, path: str, body: bytes | None, extra: dict[str, str] | None = None) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in {**self.headers, **(extra or {})}.items()]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))

    async def _head(self) -> tuple[int, dict[str, str]]:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed by the server")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _chunks(self, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        assert self.reader is not None
        if "content-length" in headers:
            yield await self.reader.readexactly(int(headers["content-length"]))
            return
        if headers.get("transfer-encoding", "").lower() != "chunked":
            while chunk := await self.reader.read(65536):  # until close
                yield chunk
            self.writer = None
            return
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return
            yield await self.reader.readexactly(size)
            await self.reader.readline()

    async def _finish(self, headers: dict[str, str]) -> None:
        if headers.get("connection", "").lower() == "close" and self.writer is not None:
            self.writer.close()
            self.writer = None

    async def json(self, method: str, path: str, payload: object | None = None) -> object:
        await self._send(method, path, orjson.dumps(payload) if payload is not None else None)
        status, headers = await self._head()
        body = b"".join([chunk async for chunk in self._chunks(headers)])
        await self._finish(headers)
        if status >= 300:
            raise HttpError(f"{method} {path}: {status} {body[:300]!r}")
        return orjson.loads(body) if body.strip() else None

    async def stream(self, path: str, payload: object) -> Turn:
        """POST an SSE request and read it to the end: time to the first body byte, to the end, events seen."""
        start = time.perf_counter()
        await self._send("POST", path, orjson.dumps(payload), {"Accept": "text/event-stream"})
        status, headers = await self._head()
        first = 0.0
        events = 0
        tail = b""
        failed = None
        async for chunk in self._chunks(headers):
            if not first:
                first = time.perf_counter() - start
            text = tail + chunk
            events += text.count(b"event:") - tail.count(b"event:")
            if b"event: error" in text:
                failed = text[text.index(b"event: error"):][:400]
            tail = text[-16:]
        await self._finish(headers)
        if status >= 300 or failed is not None:
            raise HttpError(f"POST {path}: {status} {failed!r}")
        return Turn(first, time.perf_counter() - start, events)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# --- /proc ------------------------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime ticks, rss pages) of a live process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[21])


def tree(roots: Iterable[int]) -> set[int]:
    """The roots and all their descendants."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            parents.setdefault(stat[0], []).append(int(entry))
    found, todo = set(), [r for r in roots if r]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(parents.get(pid, ()))
    return found


def cpu_ticks(pids: Iterable[int]) -> dict[int, int]:
    return {pid: stat[1] for pid in pids if (stat := _stat(pid)) is not None}


def cpu_ms_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two snapshots; a process born in between counts whole, one that died is lost."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) * 1000 / TICK


def rss_bytes(pids: Iterable[int]) -> int:
    return sum(stat[2] for pid in pids if (stat := _stat(pid)) is not None) * PAGE


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))] * 1000
