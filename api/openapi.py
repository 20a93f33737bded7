"""`/openapi.json` as the server answers: every error in the shape `api/errors.py` sends, on every operation that
can return it.

FastAPI documents only what a route's signature shows (its 2xx and a 422 in a shape this server never sends);
the rest comes from layers it cannot see: authentication (401, or 409 for a token whose email another user
has), the database (503 with `Retry-After`), the size limit and the read timeout on bodies (413, 408), the
storable-input check on every query string (422), the per-address connection limit (429 with `Retry-After`),
parsing multipart bodies and `Last-Event-ID` (400), and lookups of what a path names (404). Those rules are derived here from each route, once, so a client generated
from the document (or a fuzzer checking the server against it, `tests/test_api_schemathesis.py`) sees what
the server really does. Codes only one route answers are declared on that route (`responses=`), and get the
error body here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.auth import current_principal
from api.deps import app_database, app_runtime
from api.errors import ERROR_SCHEMA, RETRY_AFTER_SECONDS

ERROR_REF = {"$ref": "#/components/schemas/Error"}
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")

# What each status means wherever it is documented; a route's own description (`responses=`) wins.
DESCRIPTIONS = {
    400: "A header or multipart body the server cannot read (`field` names it)",
    401: "Missing, expired or invalid credentials",
    404: "Nothing of yours by that id (another user's is answered the same way)",
    408: "The request body paused for BODY_READ_TIMEOUT_SECONDS; the connection is closed",
    409: "A conflict with what exists: the token's email belongs to another user (`email_in_use`), or the "
         "resource's state forbids the change (`error` says which)",
    413: "The request body is over the limit for this path",
    429: "This address holds MAX_CONNECTIONS_PER_CLIENT connections already: retry after `Retry-After` seconds",
    422: "Invalid input, naming the field: wrong types, values outside the schema, or what Postgres cannot store "
         "(NUL, lone surrogates, integers beyond 64 bits) anywhere in the query string or JSON body",
    503: "The database is not answering right now: retry after `Retry-After` seconds",
}
RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before retrying",
                                      "schema": {"type": "integer", "example": RETRY_AFTER_SECONDS}}}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the document built once from FastAPI's and completed by the rules above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            # Routes of included routers are reached through their contexts (FastAPI keeps them nested).
            routes = {(method.lower(), context.path_format): context.original_route
                      for context in iter_route_contexts(app.routes) if isinstance(context.original_route, APIRoute)
                      for method in context.original_route.methods}
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    route = routes.get((method, path))
                    if route is not None:
                        document_errors(operation, route)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in FASTAPI_ERROR_SCHEMAS:
                components.pop(name, None)
            components["Error"] = ERROR_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(operation: dict[str, Any], route: APIRoute) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(error_statuses(operation, route)):
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    for code, response in responses.items():
        if code[:1] in ("4", "5"):  # FastAPI's own 422 body is replaced too: it is not what the server sends
            response["content"] = {"application/json": {"schema": ERROR_REF}}
            if code in ("429", "503"):
                response.setdefault("headers", {}).update(RETRY_AFTER_HEADER)


def error_statuses(operation: dict[str, Any], route: APIRoute) -> set[int]:
    """The errors the layers around `route` can answer for it (see the module docstring)."""
    # Every query string is checked before routing, whatever the route declares; every connection is counted.
    statuses = {422, 429}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    calls = set(_dependency_calls(route.dependant))
    if current_principal in calls:
        statuses |= {401, 409, 503}
    if calls & {app_database, app_runtime}:
        statuses.add(503)
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if body is not None:
        statuses |= {408, 413}
        if "multipart/form-data" in body.get("content", {}):
            statuses.add(400)
    if any(p["in"] == "header" and p["name"].lower() == "last-event-id" for p in parameters):
        statuses.add(400)
    return statuses


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)
