"""Request bodies of `/assistants`, as the official SDKs send them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runtime.runs.schemas import Body, Int, Offset, RunConfig

SortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]


class AssistantSearch(Body):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: Int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    sort_by: SortBy | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class AssistantCount(Body):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantCreate(Body):
    graph_id: str = Field(min_length=1, max_length=100)
    assistant_id: str | None = None
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)


class AssistantPatch(Body):
    graph_id: str | None = Field(default=None, min_length=1, max_length=100)
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)


class AssistantVersions(Body):
    metadata: dict[str, Any] | None = None
    limit: Int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0


class AssistantLatest(Body):
    version: Int = Field(ge=1, le=2**31 - 1)
