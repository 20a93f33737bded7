"""Requests about what the agent remembers for the user: remember, forget, list_memories.

"remember that Bob Smith's email is bob@x.com", "always cc legal@x.com", "use the Offer Letter template by
default", "forget Bob", "stop copying legal@x.com", "what do you know about me?". The system prompt's
"Remembered for this user" line is read back by conversation.py, so remembered contacts fill in emails.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import extract, phrasing, slots

if TYPE_CHECKING:
    from .intents import Context, Intent

_DEFAULT_CC = re.compile(r"\b(?:always|every|everything|all|each|by default|default cc|from now on)\b", re.I)
_TEMPLATE = re.compile(r"\btemplate\b", re.I)


def remember(intent: Intent, clause: str, ctx: Context) -> None:
    found = extract.emails(clause)
    if _TEMPLATE.search(clause) and not found:
        template = preferred_template(clause)
        if not template:
            intent.missing("template", "Which template should I use when you don't name one?")
            return
        intent.args.update(kind="preferred_template", template=re.sub(r"\s+as\b.*$", "", template))
        return
    if not found:
        intent.missing("email", "Who should I remember? Please give me their name and email address.")
        return
    intent.args["kind"] = "default_cc" if _DEFAULT_CC.search(clause) and re.search(
        r"\b(?:cc|copy|copies|copied)\b", clause, re.I) else "contact"
    intent.args["email"] = found[0]
    name = contact_name(clause, found[0])
    if name:
        intent.args["name"] = name


def forget(intent: Intent, clause: str, ctx: Context) -> None:
    found = extract.emails(clause)
    copying = re.search(r"\b(?:copy|copying|cc'?ing|cc|default cc)\b", clause, re.I)
    if re.search(r"\b(?:everything|all (?:of )?(?:it|that|this|my data|you know|you remember)|all memories)\b",
                 clause, re.I) and not (copying and not re.search(
                     r"\b(?:forget|erase|wipe|clear|delete)\s+(?:about\s+)?(?:everything|all)\b", clause, re.I)):
        intent.args["kind"] = "everything"  # not "don't copy legal on everything any more": that is a default cc
    elif copying:
        intent.args["kind"] = "default_cc"
        named = [p["email"] for p in ctx.default_cc if not found and re.search(
            rf"\b{re.escape(str(p.get('name') or '').split(' ')[0] or p['email'].split('@')[0])}\b", clause, re.I)]
        if len(named) == 1:
            found = named  # "stop copying legal": the default cc called Legal
    elif _TEMPLATE.search(clause):
        intent.args["kind"] = "preferred_template"
    else:
        intent.args["kind"] = "contact"
    if found:
        intent.args["email"] = found[0]
    elif intent.args["kind"] == "contact":
        name = re.search(rf"\b(?:forget|remove|erase|remember|remembering)\s+(?:about\s+)?({extract.NAME_WORD}(?:\s+{extract.NAME_WORD})*)",
                         clause)
        if name:
            intent.args["name"] = name.group(1)
        else:
            intent.missing("email", "Who should I forget? Give me their name or email address.")


def list_memories(intent: Intent, clause: str, ctx: Context) -> None:
    pass


_PREFERENCE = r"(?:preferred|default|usual|go-to|go to|standard|favou?rite|main|regular|normal)"


def preferred_template(clause: str) -> str | None:
    """The template a clause makes the default, however the preference is worded: "my go-to template is the
    services agreement", "make the Offer Letter my default template", "use the NDA template by default"."""
    stated = re.search(rf"\b{_PREFERENCE}\s+template\s+(?:is|should be|will be|=|:)\s+(?:now\s+)?(.+?)"
                       r"(?=\s*(?:[,;.!?]|\bremember\b|\bfrom now on\b|\bplease\b|$))", clause, re.I)
    made = re.search(rf"\b(?:make|set|use|keep|have)\s+(.+?)\s+(?:as\s+)?(?:my|our|the)\s+{_PREFERENCE}\s+template\b",
                     clause, re.I)
    for found in (stated, made):
        if found:
            name = re.sub(r"^(?:the|my|our)\s+|\s+template$", "", found.group(1).strip(), flags=re.I)
            if name and name.lower() not in {"it", "that", "this", "one"}:
                return name
    plain = re.sub(rf"\b{_PREFERENCE}\b", " ", clause, flags=re.I)
    return phrasing.template_name(plain) or slots.specific_thing(plain)


def contact_name(clause: str, email: str) -> str | None:
    """The name a clause gives an email: "Bob Smith's email is e", "e is Bob Smith", "Bob Smith <e>"."""
    owner = re.search(rf"({extract.NAME_WORD}(?:\s+{extract.NAME_WORD})*)['’]s\s+(?:e-?mail|address)", clause)
    if owner:
        return _drop_lead(owner.group(1))
    named = re.search(rf"{re.escape(email)}\s+(?:is|belongs to|for|=)\s+({extract.NAME_WORD}(?:\s+{extract.NAME_WORD})*)",
                      clause)
    if named:
        return named.group(1)
    called = re.search(rf"\b(?:as|named|called)\s+({extract.NAME_WORD}(?:\s+{extract.NAME_WORD})*)", clause)
    if called:
        return called.group(1)
    saved = re.search(rf"\b(?i:save|add|store|remember|keep)\s+({extract.NAME_WORD}(?:\s+{extract.NAME_WORD})*)\s+"
                      r"(?i:as|to|in|under)\b", clause)
    if saved and _drop_lead(saved.group(1)):
        return _drop_lead(saved.group(1))
    return extract.name_near_email(clause, email)


def _drop_lead(name: str) -> str | None:
    words = [w for w in name.split() if w.lower() not in extract.NOT_NAMES | {"remember", "that", "note"}]
    return " ".join(words) or None
