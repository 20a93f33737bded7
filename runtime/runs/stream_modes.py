"""From `graph.astream(...)` output to the SSE events LangGraph clients expect, per requested stream mode.

The wire contract (as langgraph-api serves it):
- `values`, `updates`, `custom`, `debug`, `tasks`, `checkpoints`: the graph's chunk as is.
- `messages-tuple`: event `messages`, data `[message_chunk, metadata]` (what agent-chat-ui asks for).
- `messages`: `messages/metadata` once per message id, then `messages/partial` with the message accumulated so
  far (token streaming) or `messages/complete` for whole messages.
- with `stream_subgraphs`, events from a subgraph are named `mode|ns1|ns2`.
- an `interrupt()` is visible as a `values` event carrying `__interrupt__` even when the client asked for
  neither `values` nor `updates` (LangGraph itself adds it to `values`; otherwise we watch `updates` for it).
- `events`: LangChain's `astream_events` (v2) events, each as one `events` event (no namespace suffix, with or
  without `stream_subgraphs`). The graph is then streamed with `astream_events`, and the run's own
  `on_chain_stream` events, which carry the other modes' chunks, become those modes' events as above instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import (
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    ToolMessageChunk,
    convert_to_messages,
    message_chunk_to_message,
)

Event = tuple[str, Any]


HIDDEN_TAG = "langsmith:hidden"  # LangChain's mark for runs that tracing and event streams leave out


class StreamTranslator:
    def __init__(self, requested: list[str], *, subgraphs: bool = False) -> None:
        self.requested = set(requested)
        self.subgraphs = subgraphs
        self.events = "events" in self.requested  # stream with astream_events, translated by `translate_event`
        modes = self.requested - {"messages-tuple", "events"}
        if "messages-tuple" in self.requested:
            modes.add("messages")
        self._interrupts_from_updates = not ({"values", "updates"} & self.requested)
        if self._interrupts_from_updates:
            modes.add("updates")
        self.graph_modes = sorted(modes)
        self._messages: dict[str, BaseMessage] = {}

    def translate(self, item: Any) -> Iterator[Event]:
        if self.subgraphs:
            namespace, mode, chunk = item
        else:
            (mode, chunk), namespace = item, ()
        suffix = "".join(f"|{part}" for part in namespace) if namespace else ""
        if mode == "messages":
            if "messages-tuple" in self.requested:
                message, metadata = chunk
                yield "messages" + suffix, [message, metadata]
            else:
                yield from self._messages_events(chunk)
        elif mode == "updates" and "updates" not in self.requested:
            if self._interrupts_from_updates and isinstance(chunk, dict) and chunk.get("__interrupt__"):
                yield "values" + suffix, chunk
        elif mode in self.requested:
            yield mode + suffix, chunk

    def translate_event(self, event: dict[str, Any], run_id: str) -> Iterator[Event]:
        """One `astream_events` event of the run whose id is `run_id`."""
        if HIDDEN_TAG in (event.get("tags") or ()):
            return
        if event.get("event") == "on_chain_stream" and event.get("run_id") == run_id:
            yield from self.translate(event["data"]["chunk"])
        else:
            yield "events", event

    def _messages_events(self, chunk: tuple[Any, dict[str, Any]]) -> Iterator[Event]:
        raw, metadata = chunk
        message = _as_message(raw)
        is_chunk = isinstance(message, BaseMessageChunk)
        key = message.id or ""
        if key in self._messages and is_chunk:
            self._messages[key] = self._messages[key] + message  # type: ignore[operator]
        else:
            if key not in self._messages:
                yield "messages/metadata", {key: {"metadata": metadata}}
            self._messages[key] = message
        current = self._messages[key]
        if is_chunk:
            yield "messages/partial", [current]
        else:
            yield "messages/complete", [message_chunk_to_message(current) if isinstance(current, BaseMessageChunk)
                                        else current]


def _as_message(raw: Any) -> BaseMessage:
    if isinstance(raw, BaseMessage):
        return raw
    if isinstance(raw, dict):
        kind = str(raw.get("type") or raw.get("role") or "").lower()
        if "chunk" in kind:
            fields = {k: v for k, v in raw.items() if k not in ("type", "role")}
            return ToolMessageChunk(**fields) if "tool" in kind else AIMessageChunk(**fields)
        return convert_to_messages([raw])[0]
    return convert_to_messages([raw])[0]
