"""OpenAI Chat Completions wire format: the response object, stream chunks, SSE lines, errors and usage."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

SYSTEM_FINGERPRINT = "fp_offline_planner_1"
DONE = b"data: [DONE]\n\n"
_TOKEN_RE = re.compile(r"\s*[A-Za-z0-9]+|\s*[^A-Za-z0-9\s]|\s+")


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it


@dataclass
class Reply:
    content: str | None
    tool_calls: list[ToolCall]

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


def tokens(text: str) -> list[str]:
    """Token-ish pieces (a word with its leading space, or one punctuation mark); they join back to `text`."""
    return _TOKEN_RE.findall(text)


def pieces(text: str, size: int) -> list[str]:
    """Tokens grouped `size` at a time: still a stream of many deltas, but each costs the client one parse."""
    found = tokens(text)
    return ["".join(found[i:i + size]) for i in range(0, len(found), size)]


TEXT_PIECE = 3
ARGUMENT_PIECE = 8


def count_tokens(text: str) -> int:
    return len(tokens(text))


@functools.lru_cache(maxsize=32)
def count_tokens_cached(text: str) -> int:
    """For text that repeats on every request (the tool definitions): counted once."""
    return count_tokens(text)


def digest(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def encode_arguments(arguments: dict[str, Any]) -> str:
    return orjson.dumps(arguments).decode()


def usage(prompt_tokens: int, reply: Reply) -> dict[str, Any]:
    completion = count_tokens(reply.content or "") + sum(
        count_tokens(c.name) + count_tokens(c.arguments) for c in reply.tool_calls)
    return {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def completion(reply: Reply, *, completion_id: str, model: str, created: int, usage_: dict) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None, "annotations": []}
    if reply.tool_calls:
        message["tool_calls"] = [_tool_call_json(c) for c in reply.tool_calls]
    return {
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT, "service_tier": "default",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
        "usage": usage_,
    }


def chunks(reply: Reply, *, completion_id: str, model: str, created: int, usage_: dict,
           include_usage: bool) -> Iterator[dict[str, Any]]:
    """The chunks OpenAI streams for this reply, in order (without the final [DONE])."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT, "service_tier": "default",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return body

    if reply.tool_calls:
        for index, call in enumerate(reply.tool_calls):
            first = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            yield chunk({"role": "assistant", "content": None, "tool_calls": [first]} if index == 0
                        else {"tool_calls": [first]})
            for fragment in pieces(call.arguments, ARGUMENT_PIECE):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in pieces(reply.content or "", TEXT_PIECE):
            yield chunk({"content": piece})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield {
            "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT, "service_tier": "default", "choices": [], "usage": usage_,
        }


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def error_body(message: str, *, type_: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
