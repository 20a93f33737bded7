"""What a message refers back to, read from the conversation itself (the endpoint keeps no state).

"the second one", "that one", "the one to Carol", "the MSA one" point into the envelopes shown last; an answer
to the planner's own question ("Who should sign it?" / "it's for x@y.com") completes the request that asked it.
"""

from __future__ import annotations

import re
from typing import Any

from . import extract, vocabulary
from .conversation import recipients_of

_ORDINAL_WORDS = "|".join(sorted(vocabulary.ORDINALS, key=len, reverse=True))
_ORDINAL = re.compile(
    rf"\b(?:the\s+)?({_ORDINAL_WORDS})(?:\s+(?:one|envelope|item|entry|option|in the list|on the list))?\b"
    r"(?!\s+(?:signer|recipient|page|document|name|email|week|month|day|time|signers|batch|\d))", re.I)
_NUMBERED = re.compile(r"(?:\bnumber\s*|#|\bno\.\s*|\boption\s+)(\d{1,2})\b", re.I)
_THAT_ONE = re.compile(r"\b(?:that|this|the same) (?:one|envelope)\b|^\s*(?:that|this)(?: one)?\s*[.!]*\s*$", re.I)
_THE_ONE = re.compile(r"\bthe (?:one|envelope)\s+(?:to|for|with|from|sent to|addressed to|about|called)\s+(.+?)"
                      r"(?=[,;.!?]|\s+(?:because|since|as|and|please)\b|$)", re.I)
_THE_X_ONE = re.compile(r"\bthe\s+([\w'’&-]+(?:\s+[\w'’&-]+)?)\s+one\b", re.I)


# every envelope of the list just shown: "remind them both", "all of those", "each of them"
ALL_SHOWN = re.compile(r"\b(?:(?:them|those|these) (?:both|all)|both (?:of )?(?:them|those|these|envelopes|ones)|"
                       r"(?:all|each|every one) of (?:them|those|these)|all (?:those|these|the ones (?:listed|shown|above))"
                       r"|(?:those|these) (?:two|three|four|five|envelopes))\b", re.I)
_FILLER = {"the", "a", "an", "to", "for", "one", "of", "my", "our", "envelope", "document", "agreement"}


def referenced_envelope(text: str, shown: list[dict[str, Any]]) -> str | None:
    """The id of the envelope among `shown` (the last list the person saw, in order) that `text` points at."""
    envelopes = [e for e in shown if isinstance(e, dict) and e.get("envelopeId")]
    if not envelopes:
        return None
    picked = _by_position(text, envelopes) or _by_description(text, envelopes)
    if picked is None and _THAT_ONE.search(text) and len(envelopes) == 1:
        picked = envelopes[0]
    return str(picked["envelopeId"]) if picked else None


def _by_position(text: str, envelopes: list[dict[str, Any]]) -> dict[str, Any] | None:
    numbered = _NUMBERED.search(text)
    if numbered:
        index = int(numbered.group(1)) - 1
        return envelopes[index] if 0 <= index < len(envelopes) else None
    ordinal = _ORDINAL.search(text)
    if ordinal and (len(text.split()) <= 8 or re.search(r"\b(?:one|envelope|in the list)\b", ordinal.group(0), re.I)):
        index = vocabulary.ORDINALS[ordinal.group(1).lower()]
        if -len(envelopes) <= index < len(envelopes):
            return envelopes[index]
    return None


def _by_description(text: str, envelopes: list[dict[str, Any]]) -> dict[str, Any] | None:
    described = _THE_ONE.search(text) or _THE_X_ONE.search(text)
    if not described:
        return None
    words = described.group(1)
    matches = [e for e in envelopes if matches_envelope(e, words)]
    return matches[0] if len(matches) == 1 else None


def matches_envelope(envelope: dict[str, Any], words: str) -> bool:
    """Whether `words` (a name, an email, words of the subject) describe `envelope`."""
    emails = extract.emails(words)
    people = _people_text(envelope)
    if emails:
        return all(e.lower() in people for e in emails)
    subject = subject_words(envelope)
    wanted = [w for w in re.findall(r"[^\W_]+", words.lower()) if w not in {"the", "a", "an", "to", "for", "one"}]
    return bool(wanted) and all(w in subject or w in people for w in wanted)


def subject_words(envelope: dict[str, Any]) -> set[str]:
    """The words of an envelope's subject, with long agreement names also in their short form."""
    subject = str(envelope.get("emailSubject") or envelope.get("subject") or "")
    for pattern, short in vocabulary.ABBREVIATIONS:
        subject += " " + re.sub(pattern, short, subject, flags=re.I)
    return set(re.findall(r"[^\W_]+", subject.lower()))


def _people_text(envelope: dict[str, Any]) -> str:
    return " ".join(f"{p.get('name', '')} {p.get('email', '')}" for p in recipients_of(envelope)).lower()


def narrow(envelopes: list[dict[str, Any]], about: str | None) -> list[dict[str, Any]]:
    """The envelopes `about` describes best (most of its words in the subject or the people); all of them when
    it names nothing any of them has."""
    wanted = {w for w in re.findall(r"[^\W_]+", (about or "").lower()) if w not in _FILLER}
    if not wanted:
        return envelopes
    scores = [len(wanted & (subject_words(e) | set(re.findall(r"[^\W_]+", _people_text(e))))) for e in envelopes]
    best = max(scores, default=0)
    return [e for e, score in zip(envelopes, scores) if score == best] if best else envelopes
