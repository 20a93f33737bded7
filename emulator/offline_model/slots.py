"""Slot values read from one clause, however it is worded: the thing being sent or acted on, a void's reason,
the old and new address of a correction, the people on an envelope.

Pure functions over the (normalised) clause; which intent needs which slot is decided in intents.py.
"""

from __future__ import annotations

import re

from . import extract, vocabulary

_DETERMINER = r"(?:the|our|my|this|that|these|those|a|an|your|his|her|their)"
_STOP_THING = re.compile(
    r"\s+(?:to|for|with|from|by|on|at|via|and|then|but|so|because|since|as|due|cc|copy|copying|before|after|"
    r"asap|today|tomorrow|now|please|instead|which|that|who|where|as a draft|in order|signed|sent|i|we|she|he|"
    r"they|last|this|yesterday|is|was|has|hasn't|still|going|be|are|were|gets?|should|must|needs?|over|across|along|out|off)\b.*$"
    r"|[,;:.!?()<>].*$|\s+[-–—]\s.*$",
    re.I | re.S)
_VERB_LEAD = re.compile(
    r"\b(?:send|sent|void|cancel|remind|withdraw|revoke|recall|correct|fix|update|download|get|check|show|open|"
    r"review|summari[sz]e|analy[sz]e|prepare|draft|route|use)\b\s+(?:out\s+|off\s+|over\s+)?", re.I)
_RUN = rf"({extract.NAME_WORD}(?:\s+{extract.NAME_WORD}){{0,3}})"
# What a person may put between the verb and the thing: "send jordan the offer letter", "send her our NDA".
_RECEIVER = re.compile(r"^(?!(?:the|our|my|this|that|a|an|your|out|off|over|back|along)\b)((?:[^\W\d_][\w'’.-]*\s+){1,3}?)"
                       rf"(?={_DETERMINER}\s)", re.I)
# A preface that only announces the request: "quick one - NDA to ...", "one more thing: the MSA for ...".
_PREFACE = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|right|also|and|hi|hey)[,\s]+)?(?:quick one|one more(?: thing)?|another one|"
                      r"next(?: one)?|also|small favou?r|favou?r|request|task|urgent|fyi)\s*[-–—:,]\s*", re.I)
# Words that say which kind of copy of a template without naming it ("our standard NDA" is the NDA).
FILLER_ADJECTIVES = {"standard", "usual", "regular", "normal", "typical", "default", "generic", "customary", "same",
                     "boilerplate", "stock", "good", "old", "trusty", "latest", "current"}
_PRONOUNS = {"it", "this", "that", "them", "these", "those", "one", "same", "everything", "anything", "it's", "its",
             "that's", "they're", "he's", "she's", "they", "he", "she", "here", "there"}


# --- the thing a request is about ------------------------------------------------------------------------------
def named_thing(clause: str) -> str | None:
    """What the clause names as the object of its verb, without determiners or people: "send our mutual NDA to
    Dr. Lee" -> "mutual NDA"; "cancel the offer letter for ana@x.com" -> "offer letter". None for pronouns."""
    text = _PREFACE.sub("", _without_people(clause))
    leads = list(_VERB_LEAD.finditer(text))
    for lead in leads:
        rest = text[lead.end():]
        receiver = _RECEIVER.match(rest)
        if receiver and all(w.lower() in _PERSON_WORDS or w.lower() not in vocabulary.DOMAIN_WORDS
                            for w in receiver.group(1).split()):
            rest = rest[receiver.end():]
        about = re.match(rf"{_RUN}\s+(?i:about|regarding|re:?|on|for|with)\s+", rest)
        thing = _phrase(rest[about.end():] if about else rest)
        if thing:
            return thing
    for match in re.finditer(rf"\b{_DETERMINER}\s+", text, re.I):  # "the nda, send it to x@y.com"
        thing = _phrase(text[match.end():])
        if thing:
            return thing
    if leads or extract.filenames(text):
        return None
    return _phrase(re.sub(r"^\W*(?:please\s+)?", "", text))  # terse: "nda to x@y.com"


def specific_thing(clause: str) -> str | None:
    """`named_thing` without the generic head nouns ("the NDA document" -> "NDA"), passing over phrases that are
    only generic ("the signer on the offer letter" -> "offer letter"); None when nothing specific is named."""
    generic = vocabulary.GENERIC_DOCUMENT_NOUNS | {"template", "templates", "signer", "signers", "recipient",
                                                   "recipients", "person", "email", "address", "name"}
    for _ in range(3):
        thing = named_thing(clause)
        if not thing:
            return None
        words = [w for w in thing.split() if w.lower() not in generic]
        if words:
            return " ".join(words)
        clause = clause.replace(thing, " ", 1)
    return None


def document_described(clause: str) -> str | None:
    """The document a question is about: "the risks in the consulting agreement" -> "consulting agreement"."""
    inside = re.search(rf"\b(?:in|of|about|on|from|for|within|to|under)\s+{_DETERMINER}\s+(.+)$", clause, re.I)
    if inside:
        thing = _phrase(inside.group(1))
        words = [w for w in (thing or "").split() if w.lower() not in vocabulary.GENERIC_DOCUMENT_NOUNS]
        return " ".join(words) if words else None
    found = re.search(rf"\b{_DETERMINER}\s+(.+?)\s*(?:[?.!]|$)", clause, re.I)
    if found and re.search(r"\b(?:contract|agreement|letter|lease|nda|msa|sow|terms|policy|addendum)\b", found.group(1),
                           re.I):
        return specific_thing("review " + found.group(0))
    return None


_PERSON_WORDS = {"him", "her", "them", "me", "us", "everyone", "everybody"}


def _phrase(text: str) -> str | None:
    text = re.sub(rf"^(?:{_DETERMINER}\s+)*sign\s+(?:off\s+on\s+)?", "", text.strip(), flags=re.I)  # "her sign the X"
    text = re.sub(rf"^(?:{_DETERMINER}\s+)+", "", text, flags=re.I)
    if re.match(r"\s*(?:to|for|with|from|by|of|on|at|into|onto|via)\b", text, re.I):
        return None  # "be sent to P": the thing came before the verb
    text = _STOP_THING.sub("", text).strip()
    words = text.split()
    if not words or words[0].lower() in _PRONOUNS or len(words) > 6:
        return None
    if words[0].lower() in {"and", "cc", "please", "plus"}:
        return None  # what is left of "to Walt Disney, walt@x.com" once the person is taken out
    if words[0].lower() in {"me", "him", "her", "us", "everyone", "everybody", "someone", "reminder", "reminders",
                            "a", "an", "link", "signing", "status", "envelope", "envelopes"} and len(words) == 1:
        return None
    if any("@" in w for w in words) or extract.guids(text):
        return None
    return " ".join(words)


def _without_people(clause: str) -> str:
    """The clause with each email and the name written next to it taken out."""
    text = clause
    for email in extract.emails(clause):
        name = extract.name_near_email(text, email)
        pattern = re.escape(email) + r"\s*[>)\]]?"
        if name:
            pattern = (rf"{re.escape(name)}\s*,?\s*[<(\[]?\s*{pattern}|{pattern}\s*(?:,\s*|\(\s*){re.escape(name)}\)?"
                       rf"|{pattern}")
        text = re.sub(pattern, " ", text, count=1)
    return re.sub(r"\s{2,}", " ", text)


# --- people named without an email ---------------------------------------------------------------------------
_PERSON_PLACES = [
    re.compile(rf"\b(?i:to|for|with|from|by|sent to|waiting on|waiting for)\s+{_RUN}"),
    re.compile(rf"\b(?i:remind|void|cancel|withdraw|revoke|ask|tell|correct|fix|email|message|help)\s+{_RUN}"),
    re.compile(rf"{_RUN}\s+(?i:signed|has(?:n'?t| not)|still|needs|did(?:n'?t| not)|never)\b"),
    re.compile(rf"{_RUN}['’]s\b"),
]


def person_named(clause: str) -> str | None:
    """A person the clause names without an email ("remind Lee about the lease", "the NDA Bob Stone signed",
    "the offer with Rahul"); acronyms and the domain's own words ("the Offer Letter") are not names."""
    for place in _PERSON_PLACES:
        for match in place.finditer(clause):
            words = [w for w in match.group(1).split() if not w.isupper() and w.lower().strip(".")
                     not in vocabulary.DOMAIN_WORDS and w.lower().strip(".:") not in extract.NOT_NAMES]
            if words:
                return re.sub(r"['’]s$", "", " ".join(words))
    return None


# --- void reasons ----------------------------------------------------------------------------------------------
_REASON_LEAD = re.compile(rf"\s*(?:,\s*)?\b(?:{vocabulary.REASON_LEADS})\s+(.+)$", re.I | re.S)
_TAIL = re.compile(r"\s*(?:[,;:(]|\s[-–—]+\s|\.\s+)\s*")
_NOT_REASON = re.compile(r"^(?:the one|one|which|that (?:one|was|is)|the envelope|please|thanks?|thank you|asap|"
                         r"sent (?:on|last|yesterday)|from (?:last|yesterday)|ok|okay)\b", re.I)


# A statement of what happened ("we signed with another vendor", "the client went bankrupt"): a remark, even when
# its words could also make a request.
_REMARK = re.compile(r"^(?:we|they|he|she|it|i|you|the\s+(?:\w+\s+){0,2}?\w+)\s+(?:(?:have|has|had|already|just|now|all)\s+)?"
                     r"(?:\w+ed|was|were|went|chose|found|took|got|is|are|won'?t|don'?t|doesn'?t|no longer|changed|fell)\b",
                     re.I)


def void_reason(clause: str, is_request) -> str | None:
    """The reason a void request gives: after "because"/"since"/"as", or as a remark in the same sentence
    ("cancel the NDA to c@y.com, the deal is off"; "the deal is off, so void it"). `is_request(text)` tells a
    further request ("and remind bob") from a remark."""
    match = _REASON_LEAD.search(clause)
    if match:
        return _clean_reason(match.group(1))
    before = re.match(r"^(.{6,}?),?\s+so\s+(?:please\s+)?(?:void|cancel|withdraw)\b", clause, re.I | re.S)
    if before and not is_request(before.group(1)):
        return _clean_reason(before.group(1))
    for mark in _TAIL.finditer(clause):  # the first remark after a break that is not a person, an id or a request
        tail = clause[mark.end():].strip().rstrip(")")
        words = re.findall(r"[^\W\d_]+", tail)
        loose = mark.group(0).strip().startswith(",")  # after a comma a remark needs two words
        if (len(words) >= (2 if loose else 1) and not _NOT_REASON.match(tail) and not extract.emails(tail)
                and not extract.guids(tail) and (_REMARK.match(tail) or not is_request(tail))):
            return _clean_reason(tail)
    return None


def _clean_reason(reason: str) -> str | None:
    reason = re.sub(r"^(?:of|that|is)\s+", "", reason.strip().strip("\"“”'").rstrip(".!").strip(), flags=re.I)
    return (reason[0].upper() + reason[1:])[:200] if reason else None


# --- corrections -----------------------------------------------------------------------------------------------
_OLD_MARK = re.compile(r"(?:instead of|rather than|not|from|old|wrong|incorrect|replace|of|for|on)\s*$", re.I)
_NEW_MARK = re.compile(r"(?:use|to|with|new|should (?:have )?be(?:en)?|is now|by|as|correct(?: one| address| email)? is"
                       r"|it'?s|actually|but)\s*:?\s*$", re.I)


def correction_pair(clause: str) -> tuple[str | None, str | None]:
    """(the recipient's current email, the email it should become) from any wording: "change a@ to b@", "the
    address for a@ was wrong, use b@", "use b@ instead of a@", "replace a@ with b@"."""
    found = extract.emails(clause)
    if not found:
        return None, None
    marks = []
    for email in found:
        before = clause[: clause.find(email)].rstrip(" <(['\"“")
        name = extract.name_near_email(clause, email)
        if name and before.rstrip(" ,:").endswith(name):  # "replace the signer with Yara Bell, yara@x.com": the mark is before the name
            before = before.rstrip(" ,:")[: -len(name)].rstrip(" ,<([")
        marks.append("new" if _NEW_MARK.search(before) and not re.search(r"\breplace\s*$", before, re.I)
                     else "old" if _OLD_MARK.search(before) else None)
    if len(found) >= 2:
        if marks[0] == "new" and marks[1] != "new":
            return found[1], found[0]
        return found[0], found[1]
    return (None, found[0]) if marks[0] == "new" else (found[0], None)


# --- people ----------------------------------------------------------------------------------------------------
def people(clause: str, found: list[str]) -> tuple[list[dict], list[dict]]:
    """Signers and cc'd people, in the order written. 'cc alice@x and dave@y' copies both."""
    signers: list[dict] = []
    cc: list[dict] = []
    previous_end, copying = 0, False
    for email in found:
        start = clause.find(email, previous_end)
        between = clause[previous_end:start]
        if re.search(r"\bcc:?|\bcopy\b|\bcopies\b|\bcopied\b|\bcopying\b|\bcarbon\b|\bkeep\b.*\bin the loop\b",
                     between, re.I):
            copying = True
        elif re.sub(extract.NAME_WORD + r"|[\s,;&<>()\[\]:]|\band\b|\balso\b|\bplus\b", "", between).strip():
            copying = False
        (cc if copying else signers).append(extract.person(clause, email))
        previous_end = start + len(email)
    return signers, cc


def without(clause: str, part: str | None) -> str:
    """The clause with `part` (a slot value taken from it, such as the reason) and its lead-in removed."""
    if not part:
        return clause
    at = clause.lower().find(part.lower())
    if at < 0:
        return _REASON_LEAD.sub("", clause)
    head = clause[:at] if at > len(clause) - at - len(part) else clause[at + len(part):]
    return re.sub(rf"(?:[,;:(\s-]|\b(?:{vocabulary.REASON_LEADS}))*$", "", head, flags=re.I) or clause
