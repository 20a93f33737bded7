"""Argument matchers: how a scenario says which tool arguments are right without fixing every byte of them.

A matcher is JSON. Only the arguments it names are checked (a model may add optional ones). Within it:

- a plain string matches the same text, ignoring case and surrounding spaces (emails, ids, names);
- a number or boolean matches equal values; `null` matches an absent or null argument;
- `{"$contains": "text"}` and `{"$regex": "pattern"}` (case-insensitive) match strings;
- `{"$oneof": [m, ...]}` matches when any of the matchers does; `{"$not": m}` when m does not;
- `{"$present": true}` matches any value given, `{"$absent": true}` only an absent or empty one;
- `{"$template": "Mutual NDA"}` matches what the tool resolves to that template and no other (its name, its
  id, a word of its name: "NDA", a typo close to it: "mutal nda"), given the account's templates
  (`tools.templates.template_candidates`, the tool's own rule);
- an object matches an object holding (at least) the keys it names, each matching;
- a list matches a list of the same length whose items match the matchers in some order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tools.templates import template_candidates

Templates = Mapping[str, str]  # template id -> name


def matches(value: Any, matcher: Any, templates: Templates | None = None) -> bool:
    templates = templates or {}
    if isinstance(matcher, dict) and any(k.startswith("$") for k in matcher):
        return _operator(value, matcher, templates)
    if isinstance(matcher, dict):
        return isinstance(value, dict) and all(
            matches(value.get(key), sub, templates) for key, sub in matcher.items())
    if isinstance(matcher, list):
        return isinstance(value, list) and len(value) == len(matcher) and _assign(value, matcher, templates)
    if matcher is None:
        return value is None
    if isinstance(matcher, str):
        return isinstance(value, str) and value.strip().casefold() == matcher.strip().casefold()
    if isinstance(matcher, bool) or isinstance(value, bool):
        return value is matcher
    return bool(value == matcher)


def args_match(output_args: Mapping[str, Any], expected: Mapping[str, Any], templates: Templates | None = None) -> bool:
    """Every argument the scenario names matches; unnamed arguments are free."""
    return all(matches(output_args.get(key), matcher, templates) for key, matcher in expected.items())


def _operator(value: Any, matcher: dict[str, Any], templates: Templates) -> bool:
    [(op, arg)] = matcher.items() if len(matcher) == 1 else [(None, None)]
    if op == "$contains":
        return isinstance(value, str) and str(arg).casefold() in value.casefold()
    if op == "$regex":
        return isinstance(value, str) and re.search(str(arg), value, re.IGNORECASE) is not None
    if op == "$oneof":
        return any(matches(value, option, templates) for option in arg)
    if op == "$not":
        return not matches(value, arg, templates)
    if op == "$present":
        return (value is not None) == bool(arg)
    if op == "$absent":
        return (value in (None, "", [], {})) == bool(arg)
    if op == "$template":
        return _is_template(value, str(arg), templates)
    raise ValueError(f"unknown matcher {matcher!r}")


def _is_template(value: Any, name: str, templates: Templates) -> bool:
    """The argument picks this template and no other one, by the rule the tool resolves it with."""
    if not isinstance(value, str) or not value.strip():
        return False
    if not templates:
        return value.strip().casefold() == name.casefold()
    found = template_candidates(value, list(templates.items()))
    return len(found) == 1 and templates[found[0]].casefold() == name.casefold()


def _assign(values: list[Any], matchers: list[Any], templates: Templates) -> bool:
    """Whether the items can be paired with the matchers one to one (small lists: backtracking is enough)."""
    def place(i: int, used: frozenset[int]) -> bool:
        if i == len(matchers):
            return True
        return any(j not in used and matches(values[j], matchers[i], templates) and place(i + 1, used | {j})
                   for j in range(len(values)))
    return place(0, frozenset())


def known_operator_errors(matcher: Any) -> list[str]:
    """Unknown `$` operators in a matcher, for the dataset validation test."""
    found: list[str] = []
    if isinstance(matcher, dict):
        for key, sub in matcher.items():
            if key.startswith("$") and key not in OPERATORS:
                found.append(key)
            found += known_operator_errors(sub)
    elif isinstance(matcher, list):
        for sub in matcher:
            found += known_operator_errors(sub)
    return found


OPERATORS = frozenset({"$contains", "$regex", "$oneof", "$not", "$present", "$absent", "$template"})
