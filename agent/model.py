"""The chat model: always langchain-openai's ChatOpenAI, whatever serves it.

With no key and no base URL the offline model answers, in process: ChatOpenAI's own HTTP client is given an
httpx transport that calls the offline model's ASGI app directly, so requests, SSE chunks and tool-call deltas
take exactly the path they take against OpenAI, without a socket or a server to start.
"""

from __future__ import annotations

from functools import lru_cache

import httpx
from langchain_openai import ChatOpenAI

from docusign_agent.settings import Settings

OFFLINE_BASE_URL = "http://offline-model/v1"


@lru_cache(maxsize=1)
def _offline_http_client() -> httpx.AsyncClient:
    from emulator.offline_model.app import create_offline_model_app

    transport = httpx.ASGITransport(app=create_offline_model_app())
    return httpx.AsyncClient(transport=transport, base_url=OFFLINE_BASE_URL, timeout=30)


def make_chat_model(settings: Settings, *, streaming: bool = True) -> ChatOpenAI:
    if settings.model_is_offline:
        return ChatOpenAI(
            model=settings.model_name,
            api_key="offline",  # type: ignore[arg-type]
            base_url=OFFLINE_BASE_URL,
            http_async_client=_offline_http_client(),
            streaming=streaming,
            stream_usage=True,
            temperature=0,
            max_retries=0,
        )
    return ChatOpenAI(
        model=settings.model_name,
        api_key=settings.openai_api_key,  # type: ignore[arg-type]
        base_url=settings.openai_base_url,
        streaming=streaming,
        stream_usage=True,
        temperature=settings.model_temperature,
    )
