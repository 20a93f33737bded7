"""A2A (Agent2Agent, protocol 0.3 over JSON-RPC 2.0) as langgraph-api offers it: the request shapes we accept,
the errors we answer, and how a run on a thread reads as an A2A task.

The mapping: an A2A context is a thread (`contextId` = `thread_id`), a task is one run on it (`id` =
`run_id`), the caller's message becomes the run's human message, and the agent's last answer is the task's
status message and its `answer` artifact. A run that stopped for a person's approval is `input-required`: the
person decides in the chat page (an A2A caller is another agent, never the person, so it cannot approve).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from api.turns import text_of

PROTOCOL_VERSION = "0.3.0"

# JSON-RPC and A2A error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
TASK_NOT_FOUND = -32001
TASK_NOT_CANCELABLE = -32002
CONTENT_TYPE_NOT_SUPPORTED = -32005

TaskState = Literal["submitted", "working", "input-required", "completed", "canceled", "failed"]


class RpcError(Exception):
    """A JSON-RPC error answer: a code, a sentence, and the field at fault when there is one."""

    def __init__(self, code: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def body(self, request_id: Any) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["data"] = {"field": self.field}
        return {"jsonrpc": "2.0", "id": request_id, "error": error}


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Part(_Wire):
    kind: Literal["text", "data", "file"]
    text: str | None = None
    data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _has_content(self) -> Part:
        if self.kind == "text" and self.text is None:
            raise ValueError("a text part needs text")
        if self.kind == "data" and self.data is None:
            raise ValueError("a data part needs data")
        return self


class Message(_Wire):
    role: Literal["user", "agent"]
    parts: list[Part] = Field(min_length=1)
    message_id: str = Field(min_length=1, max_length=200)
    context_id: str | None = None
    task_id: str | None = None
    kind: Literal["message"] = "message"
    metadata: dict[str, Any] | None = None


class SendParams(_Wire):
    message: Message
    configuration: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class TaskQuery(_Wire):
    id: str = Field(min_length=1)
    history_length: int | None = Field(default=None, ge=0)


class TaskRef(_Wire):
    id: str = Field(min_length=1)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jsonrpc: Literal["2.0"]
    id: str | int | None = None
    method: str = Field(min_length=1)
    params: dict[str, Any] | None = None


def parse_envelope(raw: bytes) -> Envelope:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RpcError(PARSE_ERROR, "the body is not JSON", field="body") from None
    try:
        return Envelope.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise RpcError(INVALID_REQUEST, f"not a JSON-RPC 2.0 request: {field}: {first.get('msg')}",
                       field=field) from None


def parse_params(model: type[_Wire], params: dict[str, Any] | None) -> Any:
    try:
        return model.model_validate(params or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "params." + ".".join(to_camel(str(p)) if isinstance(p, str) else str(p) for p in first["loc"])
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise RpcError(INVALID_PARAMS, f"{field}: {message}", field=field) from None


def uuid_param(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"{field}: {value!r} is not an id this server gave out (a UUID)",
                       field=field) from None


def message_text(message: Message) -> str:
    """The caller's message as the run's human message: its text parts, and data parts as JSON."""
    texts = []
    for index, part in enumerate(message.parts):
        if part.kind == "file":
            raise RpcError(CONTENT_TYPE_NOT_SUPPORTED, f"params.message.parts.{index}: file parts are not supported; "
                           "upload the file to /v1/documents and name it in a text part",
                           field=f"params.message.parts.{index}")
        texts.append(part.text if part.kind == "text" else orjson.dumps(part.data).decode())  # type: ignore[arg-type]
    return "\n".join(t for t in texts if t)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def agent_message(text: str, *, context_id: str, task_id: str) -> dict[str, Any]:
    return {"kind": "message", "role": "agent", "messageId": str(uuid.uuid4()), "contextId": context_id,
            "taskId": task_id, "parts": [{"kind": "text", "text": text}]}


def user_message(message: Message, *, context_id: str, task_id: str) -> dict[str, Any]:
    wire = message.model_dump(by_alias=True, exclude_none=True, mode="json")
    return {**wire, "contextId": context_id, "taskId": task_id}


def history_of(values: dict[str, Any], *, context_id: str, task_id: str, limit: int | None) -> list[dict[str, Any]]:
    """The thread's conversation as A2A messages (people's and the agent's words; tool traffic left out)."""
    out = []
    for message in values.get("messages") or []:
        kind = message.get("type") if isinstance(message, dict) else None
        text = text_of(message) if kind in ("human", "ai") else ""
        if text.strip():
            role = "user" if kind == "human" else "agent"
            out.append({"kind": "message", "role": role, "messageId": str(message.get("id") or uuid.uuid4()),
                        "contextId": context_id, "taskId": task_id, "parts": [{"kind": "text", "text": text}]})
    if limit is None:
        return out
    return out[-limit:] if limit else []


def answer_artifact(task_id: str, text: str) -> dict[str, Any]:
    return {"artifactId": f"{task_id}-answer", "name": "answer", "parts": [{"kind": "text", "text": text}]}


def task(*, task_id: str, context_id: str, state: TaskState, text: str | None = None,
         history: list[dict[str, Any]] | None = None, artifacts: list[dict[str, Any]] | None = None,
         metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state, "timestamp": now()}
    if text:
        status["message"] = agent_message(text, context_id=context_id, task_id=task_id)
    body: dict[str, Any] = {"kind": "task", "id": task_id, "contextId": context_id, "status": status}
    if history is not None:
        body["history"] = history
    if artifacts:
        body["artifacts"] = artifacts
    if metadata:
        body["metadata"] = metadata
    return body


def status_update(*, task_id: str, context_id: str, state: TaskState, final: bool,
                  text: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state, "timestamp": now()}
    if text:
        status["message"] = agent_message(text, context_id=context_id, task_id=task_id)
    return {"kind": "status-update", "taskId": task_id, "contextId": context_id, "status": status, "final": final}


def artifact_update(*, task_id: str, context_id: str, text: str, append: bool, last: bool) -> dict[str, Any]:
    return {"kind": "artifact-update", "taskId": task_id, "contextId": context_id, "append": append,
            "lastChunk": last, "artifact": answer_artifact(task_id, text)}


def success(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}
