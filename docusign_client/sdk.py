"""The SDK plumbing under `DocuSignClient`: a thread-aware ApiClient, what a call returns, metric labels.

The SDK's ApiClient keeps default headers on the shared instance; calls run on a thread pool, so the bearer
token travels in a thread-local instead and each request picks up its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from docusign_esign import ApiClient

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int | None
    remaining: int | None
    reset: int | None
    burst_limit: int | None
    burst_remaining: int | None


@dataclass(frozen=True)
class DocuSignResult(Generic[T]):
    """One call's answer and what came with it. Returned per call because a client is shared by concurrent
    tool calls: what the last call of the client saw may be another call's."""

    value: T
    trace_token: str | None  # X-DocuSign-TraceToken of the answer: what DocuSign support asks for
    attempts: int  # HTTP attempts this call made (retries + 1; lookups excluded); 0 when answered from the cache
    rate_limit: RateLimitStatus | None  # the account's API budget as this answer reported it

    def replace(self, value: U) -> DocuSignResult[U]:
        return DocuSignResult(value, self.trace_token, self.attempts, self.rate_limit)


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value is not None and str(value).strip().isdigit() else None


def rate_limit_status(headers: Mapping[str, str] | None) -> RateLimitStatus | None:
    if not headers or headers.get("X-RateLimit-Limit") is None:
        return None
    return RateLimitStatus(
        limit=header_int(headers, "X-RateLimit-Limit"), remaining=header_int(headers, "X-RateLimit-Remaining"),
        reset=header_int(headers, "X-RateLimit-Reset"), burst_limit=header_int(headers, "X-BurstLimit-Limit"),
        burst_remaining=header_int(headers, "X-BurstLimit-Remaining"))


class RawResponse:
    """Just enough of a response for `ApiClient.deserialize` (used to rebuild cached models)."""

    def __init__(self, data: str) -> None:
        self.data = data


class ThreadAuthApiClient(ApiClient):
    """The SDK's ApiClient, with the bearer token and timeout supplied per request by the calling thread."""

    def __init__(self, host: str, *, timeout: float, pool_size: int) -> None:
        super().__init__(host=host)
        self._local = threading.local()
        self._timeout = (min(10.0, timeout), timeout)
        pool_kw = self.rest_client.pool_manager.connection_pool_kw
        pool_kw["retries"] = False
        pool_kw["maxsize"] = pool_size

    def request(self, method: str, url: str, query_params: Any = None, headers: Any = None, post_params: Any = None,
                body: Any = None, _preload_content: bool = True, _request_timeout: Any = None) -> Any:
        headers = dict(headers or {})
        token = getattr(self._local, "token", None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return super().request(method, url, query_params=query_params, headers=headers, post_params=post_params,
                               body=body, _preload_content=_preload_content,
                               _request_timeout=_request_timeout or self._timeout)

    def run_as(self, token: str, fn: Callable[[], T]) -> T:
        self._local.token = token
        try:
            return fn()
        finally:
            self._local.token = None


def sdk_operation(fn: Callable[[], Any]) -> str:
    """The SDK operation a call lambda makes (`create_envelope`...), for the calls-by-operation metric."""
    code = getattr(fn, "__code__", None)
    names = code.co_names if code is not None else ()
    return next((n.removesuffix("_with_http_info") for n in names if n.endswith("_with_http_info")), "call")
