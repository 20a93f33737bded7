"""Requests that correct a recipient written wrongly, however they are worded.

"change bob's email to robert@x.com", "the address for a@y.com was wrong, use b@y.com", "it's Victoria Hu, not
Vic Hu", "the email on <id> is wrong" (then "should be x@y.com"), "update the signer: Walter Price has left;
Xena Ford (xena@x.com) will sign instead", "her email is actually nell@x.com, please fix it". Who is being
corrected is an email, a recipient number, a name, or else the envelope's signer read from the envelope itself
(`pick_recipient`: the only signer, or the one the new address or name resembles).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import extract, slots, vocabulary
from .conversation import recipients_of

if TYPE_CHECKING:
    from .intents import Context, Intent

_NAMES = rf"{extract.NAME_WORD}(?:\s+{extract.NAME_WORD}){{0,3}}"
_WRONG = r"(?:wrong|incorrect|misspel+ed|mis-?spel+ed|mistyped|a typo|typo'?d|outdated|out of date|off|not right)"
_FIELD = r"(?:e-?mail(?: address)?|address|name|spelling)"
# the field itself said to be wrong: "the email on <id> is wrong", "wrong address on the NDA", "typo in her name"
_FIELD_WRONG = re.compile(
    rf"\b{_FIELD}\b[^.?!]*?\b(?:is|was|are|were|looks|seems|'s|got)\s+(?:\w+\s+)?{_WRONG}\b"
    rf"|\b(?:wrong|incorrect|misspel+ed|mistyped|bad|old)\s+{_FIELD}\b|\btypo in\b[^.?!]*\b{_FIELD}\b"
    rf"|\b(?:i|we)\s+(?:mistyped|misspel+ed|got)\b[^.?!]*\b{_FIELD}\b", re.I)
# a signer replaced by someone else: "update the signer", "swap the recipient", "X will sign instead"
_REPLACE_SIGNER = re.compile(
    r"\b(?:change|update|replace|swap|switch|fix|correct)\b[^.?!]*\b(?:signer|recipient|signatory)\b"
    r"|\b(?:will|should|is going to|can)\s+sign\s+instead\b|\binstead of\b[^.?!]*\b(?:signer|recipient)\b", re.I)
# the field named after the ask to fix it: "her email is actually x@y.com, please fix it"
_FIX_AFTER = re.compile(rf"\b{_FIELD}\b.*\b(?:fix|correct|update|change)\s+(?:it|that|this|them)\b"
                        rf"|\b{_FIELD}\b\s+(?:is|was)\s+actually\b", re.I)
_SEND_LEAD = re.compile(r"\s*(?:please\s+)?(?:send|resend)\b", re.I)
# what comes after an email that says it is the new one, or the old one
_AFTER_NEW = re.compile(r"^\W*(?:\w+\s+){0,3}?(?:will|should|can|is going to)\s+sign\b|^\W*instead\b"
                        r"|^\W*(?:is|as)\s+(?:the\s+)?(?:right|correct|new|proper|real)\b"
                        r"|^\W*as\s+(?:the|its|his|her|their)\s+(?:new\s+)?(?:e-?mail|address|signer|recipient)\b", re.I)
_AFTER_OLD = re.compile(rf"^\W*(?:is|was)\s+(?:\w+\s+)?{_WRONG}\b|^\W*(?:is|was)\s+(?:the\s+)?old\b", re.I)
_LEFT = re.compile(rf"({_NAMES})\s+(?:has left|left|is leaving|is no longer|no longer|can'?t|cannot|won'?t|"
                   r"is (?:out|away|unavailable|on leave))\b")
_NOT_NAME = re.compile(rf"\b(?:it'?s|it is|should be|should read|is actually|is spelled|spell it|spelled)\s+"
                       rf"[\"“]?({_NAMES})[\"”]?(?:\s*,?\s+(?:not|rather than|instead of)\s+[\"“]?({_NAMES}))?")
_NAME_SWAP = re.compile(rf"[\"“]?({_NAMES})[\"”]?\s*,?\s+(?:not|rather than|instead of)\s+[\"“]?({_NAMES})"
                        rf"|\bnot\s+[\"“]?({_NAMES})[\"”]?\s*,?\s+but\s+[\"“]?({_NAMES})")
_TO_NAME = re.compile(rf"\bname\b(?:\s+of\s+[\w\s#]+?)?\s+(?:to|as|should be|is)\s+[\"“]?({_NAMES})"
                      rf"|\brename\b.*?\bto\s+[\"“]?({_NAMES})")
_ROLE_WORDS = {"signer", "recipient", "client", "customer", "person", "signatory", "their", "the", "his", "her"}


# a lone address that replaces the one just used: "actually make that b@y.com", "it should have been b@y.com"
_REDO = re.compile(r"^\W*(?:(?:oops|oh|sorry|actually|wait|no|hmm+|my bad|correction)[,!.\s-]+)*(?:make (?:that|it)|"
                   r"change (?:that|it) to|it should (?:have )?be(?:en)?|(?:i|we) meant|(?:that|it) should (?:have )?be(?:en)?"
                   r"|it'?s actually|use)\s+\S+@", re.I)
# two addresses, the right one said first: "it's a@y.com not b@y.com", "a@y.com, not b@y.com"
_RIGHT_NOT_WRONG = re.compile(r"\S+@\S+?[\s,]+(?:and\s+)?not\s+\S+@", re.I)


def is_correction(clause: str) -> bool:
    """Whether the clause asks to correct a recipient (rather than send, or ask about one)."""
    low = clause.lower()
    if re.search(r"\bcorrect\b|\brename\b|\b(?:change|fix|update|edit)\b.*\b(?:email|name|address)\b", low):
        return True
    if _SEND_LEAD.match(low):
        return False
    found = extract.emails(clause)
    if vocabulary.CORRECTION_CUES.search(low) and (len(found) >= 2 or (found and re.search(
            r"\b(?:email|address|e-mail|name|signer|recipient)\b", low))):
        return True
    if (len(found) == 2 and _RIGHT_NOT_WRONG.search(clause)) or (len(found) == 1 and _REDO.search(clause)):
        return True
    return bool(_FIELD_WRONG.search(clause) or _REPLACE_SIGNER.search(clause) or _FIX_AFTER.search(clause))


def build(intent: Intent, clause: str, ctx: Context) -> None:
    found = extract.emails(clause)
    number = extract.number_after(clause, r"\b(?:recipient|signer)\s*(?:#|no\.?|number)?\s*(\d+)\b")
    old_name, new_name = names(clause)
    if new_name:
        intent.args["name"] = new_name
    owner = re.search(r"\b([^\W\d_][\w.-]*)['’]s\s+(?:email|name|address|e-mail)\b", clause)
    if owner and owner.group(1).lower() in _ROLE_WORDS:
        owner = None
    old, new = pair(clause)
    if len(found) >= 2:
        intent.args["recipient"], intent.args["email"] = old, new
    elif len(found) == 1:
        if new and (number or owner or old_name or not old):
            intent.args["email"] = found[0]
            near = extract.name_near_email(clause, found[0])
            if near and "name" not in intent.args and near != old_name and not _is_role(near):
                intent.args["name"] = near  # "his colleague Xena Ford (xena@x.com) will sign instead"
        else:
            intent.args["recipient"] = found[0]
    if number and "recipient" not in intent.args:
        intent.args["recipient"] = str(number)
    elif owner and "recipient" not in intent.args:
        intent.recipient_name = owner.group(1)
    elif old_name and "recipient" not in intent.args and old_name != intent.args.get("name"):
        intent.recipient_name = old_name
    if "recipient" not in intent.args and not intent.recipient_name:
        intent.recipient_name = "?"  # the envelope's signer, read from the envelope (see pick_recipient)
    if "name" not in intent.args and "email" not in intent.args:
        if re.search(r"\b(?:e-?mail|address)\b", clause, re.I) and not re.search(r"\bname\b", clause, re.I):
            intent.missing("email", "What should the email address be instead?")
        elif re.search(r"\bname\b|\bspell", clause, re.I) and not re.search(r"\b(?:e-?mail|address)\b", clause, re.I):
            intent.missing("name", "What should the name be instead?")
        else:
            intent.missing("change", "What should I change: the recipient's name, email, or both?")


def pair(clause: str) -> tuple[str | None, str | None]:
    """(current email, new email), also reading what follows a lone email ("x@y.com will sign instead")."""
    old, new = slots.correction_pair(clause)
    found = extract.emails(clause)
    if len(found) == 2 and re.search(rf"{re.escape(found[0])}\W*[\s,]+(?:and\s+)?not\s+\W*{re.escape(found[1])}", clause,
                                     re.I):
        return found[1], found[0]  # "b@y.com, not a@y.com": the right one first
    if len(found) == 1:
        if _REDO.search(clause):
            return None, found[0]
        after = clause[clause.find(found[0]) + len(found[0]):].lstrip(" >)]\"”")
        if _AFTER_NEW.search(after):
            return None, found[0]
        if _AFTER_OLD.search(after):
            return found[0], None
    return old, new


def names(clause: str) -> tuple[str | None, str | None]:
    """(the name being replaced, the name it becomes): "it's Victoria Hu, not Vic Hu", "rename Vic to Victoria",
    "not Jon but John", "Walter Price has left"."""
    said = _NOT_NAME.search(clause)
    if said and re.search(r"\bname\b|\bspell", clause, re.I) and not _is_role(said.group(1)):
        return said.group(2), said.group(1)
    swap = _NAME_SWAP.search(clause)
    if swap and re.search(r"\bname\b|\bspell", clause, re.I):
        new, old = (swap.group(1), swap.group(2)) if swap.group(1) else (swap.group(4), swap.group(3))
        if not _is_role(new) and not _is_role(old):
            return old, new
    to = _TO_NAME.search(clause)
    left = _LEFT.search(clause)
    old = left.group(1) if left and not _is_role(left.group(1)) else None
    return old, (to.group(1) or to.group(2)) if to else None


def _is_role(name: str) -> bool:
    words = [w.lower().strip(".") for w in name.split()]
    return not words or all(w in extract.NOT_NAMES or w in vocabulary.DOMAIN_WORDS or w in _ROLE_WORDS
                            for w in words)


def pick_recipient(envelope: Any, wanted: str, args: dict[str, Any]) -> str | None:
    """The email of the recipient `wanted` names on `envelope`: "?" is its signer (the only one, or the one the
    new email or name resembles), "*" the first who still has to sign, else a name or the start of an email."""
    people = recipients_of(envelope)
    signers = [p for p in people if p.get("type") == "signer"]
    if wanted == "?":
        if len(signers) == 1:
            return str(signers[0]["email"])
        hints = _tokens(str(args.get("email") or "").split("@")[0]) | _tokens(str(args.get("name") or ""))
        alike = [p for p in signers if hints & (_tokens(str(p.get("name") or "")) | _tokens(str(p["email"]).split("@")[0]))]
        return str(alike[0]["email"]) if len(alike) == 1 else None
    if wanted == "*":
        waiting = [p for p in signers if str(p.get("status", "")).lower() not in {"completed", "signed", "declined"}]
        return str(waiting[0]["email"]) if waiting else None
    name = wanted.lower()
    for person in people:
        full = str(person.get("name") or "").lower()
        if name in {full, full.split(" ")[0] if full else ""} or str(person["email"]).lower().startswith(name):
            return str(person["email"])
    return None


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[^\W\d_]+", text.lower()) if len(t) >= 3 and t not in {"new", "old", "the"}}
