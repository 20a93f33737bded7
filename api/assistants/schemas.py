"""Request bodies of `/assistants`, as the official SDKs send them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runtime.runs.schemas import Body


class AssistantSearch(Body):
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: str | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None
