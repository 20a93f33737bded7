"""No request waits on a worker thread for its dependencies.

FastAPI runs a dependency that is a plain function in a thread of the pool (`run_in_threadpool`): one thread hop,
two wake-ups and a GIL hand-over per dependency per request, measured on every turn of the benchmark (py-spy,
docs/BENCHMARKS.md). Every dependency of every route is therefore a coroutine function.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.app import create_app
from docusign_agent.settings import Settings
from tests.api_helpers import runtime_options
from tests.conftest import role_urls


def _dependency_calls(dependant: Dependant) -> list[Any]:
    calls = []
    for sub in dependant.dependencies:
        calls.append(sub.call)
        calls.extend(_dependency_calls(sub))
    return calls


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:  # an included router
            found.extend(_api_routes(included.routes))
    return found


def test_every_route_dependency_is_a_coroutine(settings: Settings) -> None:
    app = create_app(settings, role_urls(str(settings.database_url)), runtime_options=runtime_options())
    routes = _api_routes(app.routes)
    assert len(routes) > 50
    threaded = sorted({f"{call.__module__}.{call.__qualname__}" for route in routes
                       for call in _dependency_calls(route.dependant)
                       if call is not None and not (inspect.iscoroutinefunction(call)
                                                    or inspect.isasyncgenfunction(call))})
    assert threaded == [], threaded
