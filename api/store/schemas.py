"""Request bodies of `/store`, as the official SDKs send them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from runtime.runs.schemas import Body, Bool, Int, Offset

Namespace = list[str]


def check_namespace(value: list[str] | None, *, allow_empty: bool = True) -> list[str] | None:
    """Labels are non-empty and dot-free (a namespace is kept as one dotted text)."""
    if value is None:
        return None
    if not value and not allow_empty:
        raise ValueError("must name at least one label")
    for label in value:
        if not label or "." in label or "\x00" in label:
            raise ValueError(f"namespace label {label!r} must be a non-empty string without periods")
    return value


class StorePut(Body):
    namespace: Namespace
    key: str = Field(min_length=1, max_length=1000)
    value: dict[str, Any]
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(default=None, gt=0, le=100 * 365 * 24 * 60,
                              description="Minutes until the item expires (at most 100 years).")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: list[str]) -> list[str]:
        checked = check_namespace(value, allow_empty=False)
        if checked and checked[0] == "langgraph":
            raise ValueError('the root label "langgraph" is reserved')
        return checked  # type: ignore[return-value]


class StoreDelete(Body):
    namespace: Namespace = Field(default_factory=list)
    key: str = Field(min_length=1, max_length=1000)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: list[str]) -> list[str] | None:
        return check_namespace(value)


class StoreSearch(Body):
    namespace_prefix: Namespace | None = None
    filter: dict[str, Any] | None = None
    limit: Int = Field(default=10, ge=1, le=1000)
    offset: Offset = 0
    query: str | None = None
    refresh_ttl: Bool | None = None

    @field_validator("namespace_prefix")
    @classmethod
    def _namespace(cls, value: list[str] | None) -> list[str] | None:
        return check_namespace(value)


class StoreNamespaces(Body):
    prefix: Namespace | None = None
    suffix: Namespace | None = None
    max_depth: Int | None = Field(default=None, ge=1, le=1000)
    limit: Int = Field(default=100, ge=1, le=1000)
    offset: Offset = 0

    @field_validator("prefix", "suffix")
    @classmethod
    def _labels(cls, value: list[str] | None) -> list[str] | None:
        """`*` matches any one label."""
        return check_namespace(value)
