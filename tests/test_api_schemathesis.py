"""Schemathesis against the real server: every operation of `/openapi.json`, valid and invalid inputs, answered
without a 5xx and as the document says (status, content type, headers, body schema).

The whole app runs under uvicorn on real Postgres (and Redis when `REDIS_URL` is set), called over real
sockets as one authenticated user. Examples are bounded per operation and derandomized (a fixed seed), so a
run is repeatable and takes a couple of minutes on a loaded machine. Left out: operations that start the agent
(creating runs or crons, A2A messages: each would be an agent turn, not an API answer) and `/v1/events`, a
stream that never ends by design; their inputs are covered by `tests/test_api_bad_input.py` and the runs suites.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from docusign_agent.settings import Settings, load_settings
from tests.api_helpers import ApiServer, role_urls, runtime_options
from tests.servers import ServerThread, free_port

SEED = 20261201
MAX_EXAMPLES = 15  # per operation and mode (valid inputs, invalid inputs)
# Creating a run or a cron starts the agent (now or on schedule); an A2A message is a turn; /v1/events never ends.
STARTS_THE_AGENT = r"^/(threads/\{thread_id\}/)?runs(/stream|/wait|/batch|/crons)?$|^/a2a/"
ENDLESS = r"^/v1/events$"
# `unsupported_method` is left out: it sends PATCH to /threads/search and expects 405, but PATCH /threads/{id}
# takes that path (a 422 naming thread_id is right); tests/test_api_openapi.py checks 405 and `Allow` itself.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


def _document() -> dict[str, Any]:
    """The document the server serves, built from the app without starting it (the test below checks the served
    one is the same): the operations must be known when pytest collects, one test per operation."""
    from api.app import create_app

    settings = load_settings(database_url="postgresql://unused@127.0.0.1/unused", auth_jwt_secret="x" * 32,
                             _env_file=None)
    return create_app(settings).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict({
    "seed": SEED,
    "request-timeout": 60,
    # Unknown query parameters are ignored, as LangGraph servers ignore them (newer SDKs send more); the document
    # does not forbid them, so sending one is not invalid input.
    "generation": {"max-examples": MAX_EXAMPLES, "allow-extra-parameters": False},
    # The coverage phase's deterministic edge cases are built when pytest collects: minutes for this document on
    # a loaded machine. Explicit examples and fuzzing (valid and invalid inputs) run; stateful links are not used.
    "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
}))


@pytest.fixture(scope="module")
def fuzzed(settings: Settings) -> Iterator[ApiServer]:
    """The whole app on a port its settings know, so what calls itself (the DocuSign sign-in asks the mounted
    emulator) reaches it, as under `serve`."""
    from api.app import create_app

    port = free_port()
    settings = settings.model_copy(update={"port": port})
    app = create_app(settings, role_urls(settings.database_url),  # type: ignore[arg-type]
                     runtime_options=runtime_options())
    with ServerThread(app, port) as server:
        yield ApiServer(url=server.url, settings=settings)


async def test_the_served_document_is_the_one_tested(fuzzed: ApiServer) -> None:
    async with fuzzed.http() as http:
        assert (await http.get("/openapi.json")).json() == DOCUMENT


@schema.exclude(path_regex=STARTS_THE_AGENT, method="POST").exclude(path_regex=ENDLESS).parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case, fuzzed: ApiServer) -> None:
    case.call_and_validate(base_url=fuzzed.url, headers=fuzzed.headers("fuzzer"), checks=CHECKS)
