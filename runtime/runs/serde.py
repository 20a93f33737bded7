"""JSON for everything a graph can put in its state or stream: one orjson pass, no intermediate dicts.

Messages and other pydantic models dump themselves, dataclasses (`Interrupt`) and UUIDs/datetimes are native to
orjson, exceptions become `{"error": type, "message": text}` (the shape LangGraph clients read), and anything
else degrades to its string form rather than failing a run at the last step.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson
from langchain_core.messages import BaseMessage, BaseMessageChunk

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and not isinstance(obj, type):
        return model_dump()
    as_dict = getattr(obj, "_asdict", None)  # NamedTuples such as PregelTask, Send-like tuples
    if callable(as_dict) and not isinstance(obj, type):
        return as_dict()
    if isinstance(obj, BaseException):
        return error_payload(obj)
    if isinstance(obj, (set, frozenset, deque)):
        return list(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj).decode("utf-8", errors="replace")
    if hasattr(obj, "node") and hasattr(obj, "arg"):  # langgraph.types.Send
        return {"node": obj.node, "args": obj.arg}
    return str(obj)


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=_default, option=OPTIONS)


class RunEncoder:
    """`dumps` for one run's events, encoding each whole message once.

    Every `values` event carries the whole conversation, so without this a run re-encodes every earlier message
    at each superstep. A message object seen before in this run is put in as its earlier bytes
    (`orjson.Fragment`). Keyed by identity, with the object kept alive, for the run's lifetime only; message
    chunks (new objects per token) are not kept."""

    def __init__(self) -> None:
        self._encoded: dict[int, tuple[Any, orjson.Fragment]] = {}

    def _default(self, obj: Any) -> Any:
        if isinstance(obj, BaseMessage) and not isinstance(obj, BaseMessageChunk):
            known = self._encoded.get(id(obj))
            if known is not None and known[0] is obj:
                return known[1]
            fragment = orjson.Fragment(dumps(obj))
            self._encoded[id(obj)] = (obj, fragment)
            return fragment
        return _default(obj)

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._default, option=OPTIONS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types (for JSONB columns): encode with the rules above, decode again."""
    return orjson.loads(dumps(obj))


def error_payload(exc: BaseException) -> dict[str, str]:
    message = str(exc) or type(exc).__name__
    return {"error": type(exc).__name__, "message": message}
