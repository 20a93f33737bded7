"""The offline model as an OpenAI-compatible HTTP API: POST /v1/chat/completions and GET /v1/models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import datetime as dt
import re
import time
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from docusign_agent.settings import OFFLINE_MODEL

from . import planner, wire

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class RequestError(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.param, self.code, self.status = message, param, code, status


def create_offline_model_app(today: dt.date | None = None, prefix: str = "/v1") -> FastAPI:
    """The offline model's API. `today` pins the date used for "last week" (default: the real date).

    `prefix=""` serves the routes at the app's root, for mounting at `/_emulator/v1` inside the emulator."""
    app = FastAPI(title="the offline model", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RequestError)
    async def _request_error(_: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(wire.error_body(exc.message, param=exc.param, code=exc.code), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"Unknown request URL: {request.method} {request.url.path}." if exc.status_code in {404, 405} \
            else str(exc.detail)
        return JSONResponse(wire.error_body(message, code="unknown_url" if exc.status_code == 404 else None),
                            status_code=exc.status_code)

    @app.get(f"{prefix}/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [_model_card()]}

    @app.get(prefix + "/models/{model_id}")
    async def get_model(model_id: str) -> dict[str, Any]:
        if model_id != OFFLINE_MODEL:
            raise _unknown_model(model_id)
        return _model_card()

    @app.post(f"{prefix}/chat/completions")
    async def chat_completions(request: Request) -> Response:
        body = await _read_json(request)
        _validate(body)
        tools = _usable_tools(body.get("tools") or [], body.get("tool_choice"))
        decided = planner.plan(body["messages"], tools, today)
        seed = wire.digest(body["messages"], body.get("tools"), body.get("tool_choice"))
        reply = wire.Reply(
            content=decided.content,
            tool_calls=[wire.ToolCall(f"call_{wire.digest(seed, i)[:24]}", name, wire.encode_arguments(args))
                        for i, (name, args) in enumerate(decided.tool_calls)],
        )
        prompt_tokens = wire.count_tokens(orjson.dumps(body["messages"]).decode()) + (
            wire.count_tokens_cached(orjson.dumps(body.get("tools")).decode()) if body.get("tools") else 0)
        meta = {"completion_id": f"chatcmpl-{seed[:29]}", "model": body["model"], "created": int(time.time()),
                "usage_": wire.usage(prompt_tokens, reply)}
        if not body.get("stream"):
            return Response(orjson.dumps(wire.completion(reply, **meta)), media_type="application/json")
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        # The whole reply is known at once: encode it here and hand Starlette an async iterator, so no chunk
        # goes through the thread pool that sync iterators need. The client still parses it chunk by chunk.
        body_bytes = b"".join(wire.sse(chunk) for chunk in wire.chunks(reply, include_usage=include_usage, **meta))

        async def stream() -> AsyncIterator[bytes]:
            yield body_bytes + wire.DONE

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


def _model_card() -> dict[str, Any]:
    return {"id": OFFLINE_MODEL, "object": "model", "created": 0, "owned_by": "docusign-agent"}


def _unknown_model(model: str) -> RequestError:
    return RequestError(f"The model `{model}` does not exist or you do not have access to it.",
                        code="model_not_found", status=404)


async def _read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                           "using your HTTP library correctly. The OpenAI API expects a JSON payload.)") from None
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.")
    return body


def _validate(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("you must provide a model parameter", param="model", code="missing_required_parameter")
    messages = body.get("messages")
    if messages is None:
        raise RequestError("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise RequestError("Invalid type for 'messages': expected an array.", "messages", "invalid_type")
    if not messages:
        raise RequestError("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
                           "empty array instead.", "messages", "empty_array")
    call_ids: set[str] = set()
    for index, message in enumerate(messages):
        _validate_message(index, message, call_ids)
    _validate_tools(body.get("tools"))
    for flag in ("stream",):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise RequestError(f"Invalid type for '{flag}': expected a boolean.", flag, "invalid_type")
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise RequestError("Invalid type for 'stream_options': expected an object.", "stream_options", "invalid_type")
        if not body.get("stream"):
            raise RequestError("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                               "stream_options", "invalid_value")
    if body.get("n") not in (None, 1):
        raise RequestError("The offline model supports only n=1.", "n", "invalid_value")
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("none", "auto", "required") and not (
            isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str)):
        raise RequestError("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")
    if model != OFFLINE_MODEL:
        raise _unknown_model(model)


def _validate_message(index: int, message: Any, call_ids: set[str]) -> None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise RequestError(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
    role = message.get("role")
    if role is None:
        raise RequestError(f"Missing required parameter: '{where}.role'.", f"{where}.role", "missing_required_parameter")
    if role not in _ROLES:
        raise RequestError(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                           "'function', 'tool', and 'developer'.", f"{where}.role", "invalid_value")
    content = message.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise RequestError(f"Invalid type for '{where}.content': expected one of a string or array of objects.",
                           f"{where}.content", "invalid_type")
    if content is None and not (role == "assistant" and (message.get("tool_calls") or message.get("function_call"))):
        raise RequestError(f"Missing required parameter: '{where}.content'.", f"{where}.content",
                           "missing_required_parameter")
    if role == "assistant" and message.get("tool_calls") is not None:
        calls = message["tool_calls"]
        if not isinstance(calls, list):
            raise RequestError(f"Invalid type for '{where}.tool_calls': expected an array.", f"{where}.tool_calls",
                               "invalid_type")
        for number, call in enumerate(calls):
            ok = isinstance(call, dict) and isinstance(call.get("id"), str) and isinstance(call.get("function"), dict) \
                and isinstance(call["function"].get("name"), str) and isinstance(call["function"].get("arguments"), str)
            if not ok:
                raise RequestError(f"Invalid '{where}.tool_calls[{number}]': expected id, type 'function' and "
                                   "function.name and function.arguments strings.", f"{where}.tool_calls[{number}]",
                                   "invalid_value")
            call_ids.add(call["id"])
    if role == "tool":
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str):
            raise RequestError(f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id",
                               "missing_required_parameter")
        if call_id not in call_ids:
            raise RequestError("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                               "message with 'tool_calls'.", f"{where}.role", None)


def _validate_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise RequestError("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type", "function") != "function":
            raise RequestError(f"Invalid 'tools[{index}]': expected type 'function' with a 'function' object.",
                               f"tools[{index}]", "invalid_value")
        name = function.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise RequestError(f"Invalid 'tools[{index}].function.name': string does not match pattern. Expected a "
                               "string that matches the pattern '^[a-zA-Z0-9_-]+$'.", f"tools[{index}].function.name",
                               "invalid_value")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise RequestError(f"Invalid type for 'tools[{index}].function.parameters': expected an object.",
                               f"tools[{index}].function.parameters", "invalid_type")


def _usable_tools(tools: list[dict[str, Any]], choice: Any) -> list[dict[str, Any]]:
    """tool_choice "none" hides the tools; a named function leaves only that one."""
    if choice == "none":
        return []
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return [t for t in tools if t["function"]["name"] == wanted]
    return tools
