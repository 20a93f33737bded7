"""Fit planned arguments to a tool's JSON schema (as sent in the request's `tools`) and check them.

Covers the JSON-schema subset tool definitions use: type, properties, required, additionalProperties, items,
anyOf/oneOf/allOf, enum, const, min/max length, minItems, minimum/maximum, format email/date and $ref to $defs.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TYPES = {
    "string": lambda v: isinstance(v, str), "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list), "null": lambda v: v is None,
}


def fit(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """Drop what the schema does not allow (unknown properties, invalid optional values)."""
    root = root or schema
    schema = _resolve(schema, root)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        for branch in branches:
            fitted = fit(value, branch, root)
            if not check(fitted, branch, root):
                return fitted
        return value
    if isinstance(value, dict) and ("properties" in schema or schema.get("type") == "object"):
        properties = schema.get("properties")
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for key, item in value.items():
            if properties is not None and key not in properties:
                continue
            sub = (properties or {}).get(key, {})
            fitted = fit(item, sub, root)
            if key not in required and check(fitted, sub, root):
                continue
            result[key] = fitted
        return result
    if isinstance(value, list) and "items" in schema:
        return [fit(item, schema["items"], root) for item in value]
    return value


def check(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None, path: str = "") -> list[str]:
    """Problems with `value` against `schema`; empty when it validates."""
    root = root or schema
    schema = _resolve(schema, root)
    where = path or "arguments"
    for part in schema.get("allOf", []):
        problems = check(value, part, root, path)
        if problems:
            return problems
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        results = [check(value, b, root, path) for b in branches]
        return [] if any(not r for r in results) else results[0]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return [f"{where}: expected {'/'.join(kinds)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: must be one of {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: must be {schema['const']!r}"]
    problems: list[str] = []
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 10**9):
            problems.append(f"{where}: wrong length")
        if schema.get("format") == "email" and not _EMAIL.match(value):
            problems.append(f"{where}: not an email")
        if schema.get("format") == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{where}: not a date")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < schema.get("minimum", float("-inf")) or value > schema.get("maximum", float("inf")):
            problems.append(f"{where}: out of range")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{where}: needs at least {schema['minItems']} item(s)")
        for index, item in enumerate(value):
            problems += check(item, schema.get("items", {}), root, f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{path + '.' if path else ''}{key}: required")
        for key, item in value.items():
            if key in properties:
                problems += check(item, properties[key], root, f"{path + '.' if path else ''}{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{key}: not allowed")
    return problems


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, seen = target, seen + 1
    return schema if isinstance(schema, dict) else {}
