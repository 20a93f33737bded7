"""One error shape for the whole HTTP surface: `{"error": code, "message": sentence, "field"?: name}`.

LangGraph clients read `detail`, so it is included too.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.guard import RefusedUpdate
from db.connections import is_unavailable
from runtime.runs.errors import Conflict, InvalidRequest, NotFound, RunsError

log = logging.getLogger(__name__)

# How a refusal of the runs layer is answered over HTTP.
RUNS_ERROR_STATUS: dict[type[RunsError], int] = {NotFound: 404, Conflict: 409, InvalidRequest: 422}
# What the database's drivers raise; those that mean "not answering, for now" (`db.connections.is_unavailable`)
# are answered 503 with Retry-After, every route alike, as the Connect receiver answers DocuSign.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OSError, SQLAlchemyError, asyncpg.PostgresError,
                                                asyncpg.InterfaceError, psycopg.Error, PoolTimeout)
RETRY_AFTER_SECONDS = 5

# The error body as JSON Schema, for `/openapi.json` (`api/openapi.py`): what `ApiError.body()` and the handlers
# below send. `errors` comes only with schema validation's 422, one entry per problem.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["error", "message", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A code to branch on, e.g. `not_found`, `invalid_request`"},
        "message": {"type": "string", "description": "A sentence a person can act on"},
        "detail": {"type": "string", "description": "The message again, where LangGraph clients read it"},
        "field": {"type": "string", "description": "The dotted path of the field at fault, when one is"},
        "errors": {"type": "array", "description": "Every problem schema validation found",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message, "detail": self.message}
        if self.field:
            body["field"] = self.field
        return body


def unavailable_error() -> ApiError:
    return ApiError(503, "unavailable", "the database is not answering right now; retry shortly",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RunsError)
    async def _runs_error(_: Request, exc: RunsError) -> JSONResponse:
        status = next((s for kind, s in RUNS_ERROR_STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse(ApiError(status, exc.code, exc.message, field=exc.field).body(), status_code=status)

    @app.exception_handler(RefusedUpdate)
    async def _refused_update(_: Request, exc: RefusedUpdate) -> JSONResponse:
        return JSONResponse(ApiError(422, exc.code, exc.message, field=exc.field).body(), status_code=422)

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_unavailable(exc):
            raise exc  # not an outage: a server error, answered as any other
        log.error("database unavailable during %s %s: %s: %s", request.method, request.url.path,
                  type(exc).__name__, exc)
        error = unavailable_error()
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = "body" if first.get("type") == "json_invalid" else _field_name(tuple(first.get("loc", ())))
        message = f"{field}: {first.get('msg', 'invalid value')}"
        return JSONResponse(
            {"error": "invalid_request", "message": message, "detail": message, "field": field,
             "errors": [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg")} for e in exc.errors()]},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 408: "request_timeout",
                413: "payload_too_large"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        # Starlette's 405 carries `Allow` (RFC 9110 requires it): keep every header it set.
        return JSONResponse({"error": code, "message": message, "detail": message}, status_code=exc.status_code,
                            headers=exc.headers)
