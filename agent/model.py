"""The chat models: always langchain-openai's ChatOpenAI, whatever serves it.

With no key and no base URL the offline model answers, in process: ChatOpenAI's own HTTP client is given an
httpx transport that calls the offline model's ASGI app directly, so requests, SSE chunks and tool-call deltas
take exactly the path they take against OpenAI, without a socket or a server to start. That client belongs to
whoever opened the models (`chat_models`), which closes it with them: nothing is cached per process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langgraph.store.base import IndexConfig

from docusign_agent.settings import Settings
from emulator.offline_model.app import create_offline_model_app

OFFLINE_BASE_URL = "http://offline-model/v1"


@dataclass(frozen=True)
class ChatModels:
    chat: ChatOpenAI  # the conversation: streams tokens and tool-call deltas
    analysis: ChatOpenAI  # document analysis: one JSON answer, not streamed


def offline_http_client() -> httpx.AsyncClient:
    """An httpx client whose transport is the offline model's ASGI app (the caller closes it)."""
    transport = httpx.ASGITransport(app=create_offline_model_app())
    return httpx.AsyncClient(transport=transport, base_url=OFFLINE_BASE_URL, timeout=30)


def make_chat_model(settings: Settings, *, streaming: bool = True,
                    offline_http: httpx.AsyncClient | None = None) -> ChatOpenAI:
    if settings.model_is_offline:
        if offline_http is None:
            raise ValueError("the offline model is served in process: pass offline_http=offline_http_client()")
        return ChatOpenAI(
            model=settings.model_name,
            api_key="offline",  # type: ignore[arg-type]
            base_url=OFFLINE_BASE_URL,
            http_async_client=offline_http,
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


def store_index(settings: Settings) -> IndexConfig | None:
    """The Store's vector index when an embeddings model is configured (served where the chat model is)."""
    if not settings.embeddings_model:
        return None
    embeddings = OpenAIEmbeddings(model=settings.embeddings_model,
                                  api_key=settings.openai_api_key or "unused",  # type: ignore[arg-type]
                                  base_url=settings.openai_base_url, check_embedding_ctx_length=False)
    return IndexConfig(dims=settings.embeddings_dims, embed=embeddings, fields=["$"])


@asynccontextmanager
async def chat_models(settings: Settings) -> AsyncIterator[ChatModels]:
    """Both models of one app, sharing the offline transport when the offline model answers."""
    offline_http = offline_http_client() if settings.model_is_offline else None
    try:
        yield ChatModels(chat=make_chat_model(settings, offline_http=offline_http),
                         analysis=make_chat_model(settings, streaming=False, offline_http=offline_http))
    finally:
        if offline_http is not None:
            await offline_http.aclose()
