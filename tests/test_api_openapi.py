"""`/openapi.json` is true to the server: the error body it documents is the one real errors have, the errors the
layers around the routes answer are documented where they can happen, path ids are typed as UUIDs, integers
are integers (`false` is refused), and a method a path does not take is a 405 naming the ones it does.

FastAPI alone documented only 200 and a 422 whose body (`{"detail": [...]}`) the server never sends.
"""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema
import pytest

from tests.api_helpers import ApiServer, api_server  # noqa: F401


@pytest.fixture(scope="module")
async def document(api_server: ApiServer) -> dict[str, Any]:  # noqa: F811
    async with api_server.http(None) as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _error_schema(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = document["paths"][path][method]["responses"][str(status)]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def test_the_only_error_shape_is_the_servers(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    error = schemas["Error"]
    assert set(error["required"]) == {"error", "message", "detail"} and "field" in error["properties"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, \
                        (method, path, status)


@pytest.mark.parametrize(("path", "method", "statuses"), [
    ("/threads/{thread_id}", "get", {200, 401, 404, 409, 422, 429, 503}),
    ("/threads", "post", {200, 401, 408, 409, 413, 422, 429, 503}),
    ("/threads/{thread_id}/runs/{run_id}/stream", "get", {200, 400, 401, 404, 422, 503}),
    ("/v1/documents", "post", {201, 400, 401, 413, 415, 422, 503}),
    ("/v1/approvals/{approval_id}", "post", {200, 401, 404, 409, 413, 422, 503}),
    ("/ok", "get", {200, 422, 429}),
    ("/threads/{thread_id}/runs/{run_id}/cancel", "post", {200, 202, 401, 404, 422, 503}),  # 202 without wait
])
def test_the_errors_an_operation_can_answer_are_documented(document: dict[str, Any], path: str, method: str,
                                                           statuses: set[int]) -> None:
    responses = document["paths"][path][method]["responses"]
    assert statuses <= {int(s) for s in responses}, sorted(responses)
    for status in {"429", "503"} & set(responses):
        assert responses[status]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_path_ids_are_uuids(document: dict[str, Any]) -> None:
    typed = {(p["name"], path) for path, operations in document["paths"].items() for operation in operations.values()
             for p in operation.get("parameters", []) if p["in"] == "path" and p["schema"].get("format") == "uuid"}
    for name in ("thread_id", "run_id", "cron_id", "checkpoint_id", "document_id", "key_id", "approval_id"):
        assert any(n == name for n, _ in typed), name
    untyped = [(p["name"], path) for path, operations in document["paths"].items() for o in operations.values()
               for p in o.get("parameters", []) if p["in"] == "path" and p["name"].endswith("_id")
               and p["schema"].get("format") != "uuid"]
    # An assistant is named by a graph id (`agent`) or a UUID; DocuSign names envelopes.
    assert {name for name, _ in untyped} == {"assistant_id", "envelope_id"}, untyped


async def test_real_errors_have_the_documented_shape(api_server: ApiServer, document: dict[str, Any]) -> None:  # noqa: F811
    async with api_server.http() as http, api_server.http(None) as anonymous:
        answers = {
            ("/threads/search", "post", 422): await http.post("/threads/search", json={"limit": False}),
            ("/threads/{thread_id}", "get", 422): await http.get("/threads/not-a-uuid"),
            ("/threads/{thread_id}", "get", 404): await http.get(f"/threads/{uuid.uuid4()}"),
            ("/threads/{thread_id}", "get", 401): await anonymous.get(f"/threads/{uuid.uuid4()}"),
            ("/threads", "post", 422): await http.post("/threads", content=b"\xff\xfe{", headers={
                "content-type": "application/json"}),
        }
        not_allowed = await http.put("/ok")
    for (path, method, status), response in answers.items():
        assert response.status_code == status, (path, response.text)
        jsonschema.validate(response.json(), _error_schema(document, path, method, status))
    assert answers[("/threads/search", "post", 422)].json()["field"] == "limit"  # `false` is not an integer
    assert answers[("/threads/{thread_id}", "get", 422)].json()["field"] == "thread_id"
    assert answers[("/threads", "post", 422)].json()["field"] == "body"  # not UTF-8: not a bare 400
    limit = document["components"]["schemas"]["ThreadSearch"]["properties"]["limit"]
    assert limit["type"] == "integer"
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET"
    assert not_allowed.json()["error"] == "method_not_allowed"
