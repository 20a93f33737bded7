"""Bad input: what Postgres cannot store is a 422 naming the field, and nothing changes; a 500 is JSON and logged.

Each case was a 500 before `db/storable.py` and `api/middleware.py` (NUL and lone surrogates in text, integers
past 64 bits, `-1.79e308`, which `jsonb` hands back as a 309-digit integer), or before the fixes beside them
(reducers refusing state values, tokens whose email cannot be kept, resuming a thread that waits for nothing).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
import orjson
import psycopg
import pytest
from fastapi import FastAPI

from api.errors import install_error_handlers
from api.http_setup import install_http_layers
from docusign_agent.secrets import jwt_secret
from docusign_agent.settings import Settings
from tests.api_helpers import ApiServer, api_server, human  # noqa: F401
from tests.servers import ServerThread

NUL = r"a\u0000b"
LONE = r"a\ud800b"
HUGE = "123456789012345678901234567890"
MESSAGE = r'{"messages": [{"role": "user", "content": "%s"}]}'

# (method, path with {tid} for a thread that has run once, raw JSON body or None, the field the error names)
BAD_INPUT: list[tuple[str, str, str | None, str]] = [
    ("GET", "/v1/documents?q=a%00b", None, "q"),
    ("GET", "/store/items?namespace=a&key=k%00", None, "key"),
    ("GET", "/threads/{tid}/runs?offset=" + HUGE, None, "offset"),
    ("GET", "/v1/envelopes?offset=9223372036854775808", None, "offset"),
    ("POST", "/v1/api-keys", f'{{"name": "{NUL}"}}', "name"),
    ("POST", "/v1/api-keys", f'{{"name": "{LONE}"}}', "name"),
    ("POST", "/threads", f'{{"metadata": {{"k": "{NUL}"}}}}', "metadata.k"),
    ("POST", "/threads", f'{{"metadata": {{"k": "{LONE}"}}}}', "metadata.k"),
    ("POST", "/threads", r'{"metadata": {"a\u0000": 1}}', r"metadata.a\u0000"),
    ("POST", "/threads", f'{{"metadata": {{"k": {HUGE}}}}}', "metadata.k"),
    ("POST", "/threads", '{"metadata": {"k": 9223372036854775808}}', "metadata.k"),
    ("POST", "/threads", '{"metadata": {"k": -1.79e308}}', "metadata.k"),
    ("POST", "/threads", '{"metadata": {"k": [1, NaN]}}', "metadata.k.1"),
    ("POST", "/threads/search", f'{{"metadata": {{"k": "{NUL}"}}}}', "metadata.k"),
    ("POST", "/threads/search", f'{{"values": {{"k": "{LONE}"}}}}', "values.k"),
    ("POST", "/threads/search", f'{{"offset": {HUGE}}}', "offset"),
    ("POST", "/threads/search", '{"offset": 9223372036854775808}', "offset"),
    ("POST", "/threads/search", '{"limit": false}', "limit"),
    ("POST", "/threads/count", f'{{"metadata": {{"k": "{NUL}"}}}}', "metadata.k"),
    ("PATCH", "/threads/{tid}", f'{{"metadata": {{"k": "{NUL}"}}}}', "metadata.k"),
    ("PATCH", "/threads/{tid}", '{"metadata": {"n": -1.79e308}}', "metadata.n"),
    ("POST", "/threads/{tid}/state/checkpoint", f'{{"checkpoint": {{"checkpoint_ns": "{NUL}"}}}}',
     "checkpoint.checkpoint_ns"),
    ("POST", "/threads/{tid}/history", f'{{"checkpoint": {{"checkpoint_ns": "{LONE}"}}}}', "checkpoint.checkpoint_ns"),
    ("POST", "/threads/{tid}/history", f'{{"metadata": {{"k": "{NUL}"}}}}', "metadata.k"),
    ("POST", "/threads/{tid}/state", f'{{"values": {MESSAGE % NUL}}}', "values.messages.0.content"),
    ("POST", "/threads/{tid}/state", '{"values": {"messages": 5}}', "values"),
    ("POST", "/threads/{tid}/state", '{"values": {"messages": null}}', "values"),
    ("POST", "/threads/{tid}/state", '{"values": [1]}', "values"),
    ("POST", "/threads/{tid}/runs", f'{{"assistant_id": "test", "input": {MESSAGE % NUL}}}', "input.messages.0.content"),
    ("POST", "/threads/{tid}/runs/wait", f'{{"assistant_id": "test", "input": {MESSAGE % LONE}}}',
     "input.messages.0.content"),
    ("POST", "/threads/{tid}/runs", f'{{"assistant_id": "test", "metadata": {{"n": {HUGE}}}}}', "metadata.n"),
    ("POST", "/threads/{tid}/runs/stream", '{"assistant_id": "test", "config": {"recursion_limit": false}}',
     "config.recursion_limit"),
    ("POST", "/runs", '{"assistant_id": "test", "metadata": {"n": -1.79e308}}', "metadata.n"),
    ("POST", "/store/items/search", f'{{"filter": {{"k": "{NUL}"}}}}', "filter.k"),
    ("PUT", "/store/items", f'{{"namespace": ["a"], "key": "{NUL}", "value": {{}}}}', "key"),
    ("PUT", "/store/items", '{"namespace": ["a"], "key": "k", "value": {"n": 1e400}}', "value.n"),
    ("PUT", "/store/items", '{"namespace": ["a"], "key": "k", "value": {}, "ttl": 1e300}', "ttl"),
    ("POST", "/assistants", f'{{"graph_id": "test", "name": "{NUL}"}}', "name"),
    ("POST", "/assistants/search", f'{{"metadata": {{"k": "{LONE}"}}}}', "metadata.k"),
    ("POST", "/assistants/search", f'{{"offset": {HUGE}}}', "offset"),
    ("PUT", "/v1/preferences", '{"reminder_days": true}', "reminder_days"),
]


async def _everything(http: httpx.AsyncClient, tid: str) -> dict[str, Any]:
    """What the user has: a refused request must leave all of it as it was."""
    async def get(method: str, path: str, body: Any = None) -> Any:
        response = await http.request(method, path, json=body)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    return {
        "threads": await get("POST", "/threads/search", {"limit": 1000}),
        "runs": await get("GET", f"/threads/{tid}/runs"),
        "state": await get("GET", f"/threads/{tid}/state"),
        "keys": await get("GET", "/v1/api-keys"),
        "assistants": await get("POST", "/assistants/search", {"limit": 1000}),
        "items": await get("POST", "/store/items/search", {"namespace_prefix": []}),
        "preferences": await get("GET", "/v1/preferences"),
    }


@pytest.fixture(scope="module")
async def thread_that_ran(api_server: ApiServer) -> str:
    async with api_server.http("mallory") as http:
        tid = (await http.post("/threads", json={"metadata": {"topic": "nda"}})).json()["thread_id"]
        done = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "test", "input": human("hi")})
        assert done.status_code == 200, done.text
    return tid


@pytest.mark.parametrize(("method", "path", "raw", "field"), BAD_INPUT)
async def test_unstorable_input_is_422_naming_the_field_and_stores_nothing(
        api_server: ApiServer, thread_that_ran: str, method: str, path: str, raw: str | None, field: str) -> None:
    async with api_server.http("mallory") as http:
        before = await _everything(http, thread_that_ran)
        headers = {"Content-Type": "application/json"} if raw is not None else {}
        response = await http.request(method, path.format(tid=thread_that_ran), content=raw, headers=headers)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "invalid_request" and body["field"] == field, body
        assert body["message"].startswith(f"{field}: ") and body["detail"] == body["message"]
        assert await _everything(http, thread_that_ran) == before


async def test_resuming_a_thread_that_waits_for_nothing_is_422(api_server: ApiServer,
                                                               thread_that_ran: str) -> None:
    async with api_server.http("mallory") as http:
        before = await _everything(http, thread_that_ran)
        for path in ("runs", "runs/wait", "runs/stream"):
            response = await http.post(f"/threads/{thread_that_ran}/{path}",
                                       json={"assistant_id": "test", "command": {"resume": {"decisions": []}}})
            assert response.status_code == 422, response.text
            assert response.json()["field"] == "command.resume"
            assert "not waiting for an answer (it is idle)" in response.json()["message"]
        assert await _everything(http, thread_that_ran) == before


def _token(settings: Settings, sub: uuid.UUID, email: str) -> str:
    claims = {"sub": str(sub), "email": email, "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}
    return jwt.encode(claims, jwt_secret(settings), algorithm="HS256")


async def _profile_exists(settings: Settings, user_id: uuid.UUID) -> bool:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:  # the owner: no RLS
        row = await (await conn.execute("SELECT count(*) FROM profiles WHERE id = %s", (user_id,))).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize(("email", "status", "code"), [
    ("taken", 409, "email_in_use"),
    ("a" * 321 + "@example.com", 401, "invalid_token"),
    ("a\x00b@example.com", 401, "invalid_token"),
])
async def test_tokens_whose_email_cannot_be_kept_are_refused_naming_it(
        api_server: ApiServer, email: str, status: int, code: str) -> None:
    if email == "taken":
        email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
        first = uuid.uuid4()
        async with api_server.http(None, headers={"Authorization": f"Bearer {_token(api_server.settings, first, email)}"}) as http:
            assert (await http.get("/v1/me")).status_code == 200
    sub = uuid.uuid4()
    async with api_server.http(None, headers={"Authorization": f"Bearer {_token(api_server.settings, sub, email)}"}) as http:
        response = await http.get("/v1/me")
        assert response.status_code == status, response.text
        assert response.json()["error"] == code and response.json()["field"] == "email"
        assert (await http.post("/threads", json={})).status_code == status  # every route, not only the first
    assert not await _profile_exists(api_server.settings, sub)


async def test_405_says_which_methods_the_path_takes(api_server: ApiServer) -> None:
    async with api_server.http("mallory") as http:
        response = await http.delete("/threads")
        assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
        assert response.headers["allow"] == "POST"
        response = await http.put("/threads/search")  # also /threads/{thread_id} (which then wants a UUID)
        assert response.status_code == 405
        assert response.headers["allow"].split(", ") == ["GET", "POST", "PATCH", "DELETE"]


def test_an_unexpected_error_is_a_json_500_and_one_json_log_line(settings: Settings,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A route that fails in a way no handler knows: the client gets the error shape, the log one JSON line."""
    app = FastAPI()
    install_error_handlers(app)
    install_http_layers(app, settings)

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("an unexpected failure\nover two lines")

    with ServerThread(app) as server:
        response = httpx.get(f"{server.url}/fails", headers={"X-Request-Id": "req-500-test"}, timeout=30)
    assert response.status_code == 500 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "internal_error" and "req-500-test" in body["message"]
    assert "unexpected failure" not in body["message"]  # the cause is for the log, not the client
    err = capsys.readouterr().err
    assert "Traceback" not in [line.split(" ")[0] for line in err.splitlines()]  # no text traceback from uvicorn
    ours = [orjson.loads(line) for line in err.splitlines() if "req-500-test" in line]
    assert len(ours) == 1, err
    assert ours[0]["level"] == "ERROR" and ours[0]["status"] == 500
    assert "RuntimeError: an unexpected failure" in ours[0]["exc"]
