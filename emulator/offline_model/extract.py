"""Pull entities out of a request: emails, names, envelope ids, file names, template names, quoted text, dates.

Pure functions over strings; nothing here knows about tools or the conversation.
"""

from __future__ import annotations

import datetime as dt
import re

GUID_RE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
EMAIL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
FILE_EXTENSIONS = "pdf|docx?|txt|rtf|html?|xlsx?|csv|pptx?|png|jpe?g|odt"
FILE_RE = re.compile(rf"(?<![\w@/.-])[\w()-]+(?:[.-][\w()]+)*\.(?:{FILE_EXTENSIONS})\b", re.IGNORECASE)
QUOTED_RE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w])'([^']+)'(?![\w])")
NAME_WORD = r"[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['’.-][^\W\d_]*)*\.?"  # Unicode letters: José, Núñez, O'Brien
NAME_RUN_RE = re.compile(rf"({NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})\s*$")

# Capitalised words that start sentences or name things but are never part of a person's name.
NOT_NAMES = {
    "a", "also", "and", "ask", "bcc", "cc", "copy", "create", "dear", "draft", "email", "first", "for", "from",
    "get", "have", "hi", "i", "let", "make", "nda", "now", "ok", "please", "remind", "save", "send", "sign",
    "signer", "signers", "the", "then", "to", "void", "with", "recipient", "recipients", "template", "bulk",
    "next", "second", "third", "last", "finally", "after", "before", "cc:", "to:", "pdf", "can", "could",
    "would", "you", "we", "they", "it", "is", "by", "on", "my", "our", "route", "signing", "link", "change",
}

MONTHS = {
    name: index + 1
    for index, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_RE = re.compile(
    rf"\b(\d{{4}}-\d{{1,2}}-\d{{1,2}}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    rf"|(?:{_MONTH_ALT})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_ALT})\.?(?:,?\s+\d{{4}})?)\b",
    re.IGNORECASE,
)


def guids(text: str) -> list[str]:
    return _unique(m.group(0).lower() for m in GUID_RE.finditer(text))


def emails(text: str) -> list[str]:
    return _unique(m.group(0).rstrip(".") for m in EMAIL_RE.finditer(text))


def filenames(text: str) -> list[str]:
    found = [q for q in quoted(text) if re.search(rf"\.(?:{FILE_EXTENSIONS})$", q, re.IGNORECASE)]
    stripped = EMAIL_RE.sub(" ", text)
    found += [m.group(0) for m in FILE_RE.finditer(stripped)]
    return _unique(found)


def quoted(text: str) -> list[str]:
    return _unique(next(g for g in m.groups() if g is not None).strip() for m in QUOTED_RE.finditer(text))


def name_from_email(email: str) -> str:
    """'bob.smith42@x.com' -> 'Bob Smith'; the fallback when the request gives no name."""
    local = email.split("@", 1)[0]
    parts = [re.sub(r"\d+", "", p) for p in re.split(r"[._+-]+", local)]
    words = [p.capitalize() for p in parts if p]
    return " ".join(words) or local


def name_near_email(text: str, email: str) -> str | None:
    """A name written next to the email: 'Bob Smith <bob@x>', 'Bob Smith (bob@x)', 'bob@x (Bob Smith)'."""
    at = text.find(email)
    if at < 0:
        return None
    after = re.match(r"\s*[>)\]]?\s*\(([^()@]{1,80})\)", text[at + len(email):])
    if after:
        name = after.group(1).strip()
        if re.fullmatch(rf"{NAME_WORD}(?:\s+{NAME_WORD})*", name):
            return name
    comma = re.match(rf"\s*[>)\]]?\s*,\s*({NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})\s*(?:$|[.;!?]|,|\band\b)",
                     text[at + len(email):])
    if comma and not any(w.lower() in NOT_NAMES for w in comma.group(1).split()):
        return comma.group(1)
    before = re.sub(r"(?:[\s<(\[:,-]|\b(?:at|via|on)\b)+$", "", text[:at])
    match = NAME_RUN_RE.search(before)
    if not match:
        return None
    words = match.group(1).split()
    while words and words[0].lower().strip(".:") in NOT_NAMES:
        words.pop(0)
    if not words or any(w.lower() in NOT_NAMES for w in words):
        return None
    return " ".join(words)


_TOLD_NAME = re.compile(rf"\b(?:her|his|their|the signer'?s|the recipient'?s) (?:full )?name(?:'s| is|:)\s+"
                        rf"({NAME_WORD}(?:\s+{NAME_WORD}){{0,3}})")


def person(text: str, email: str) -> dict[str, str]:
    """The person an email stands for: the name written next to it, or told in the same message ("her name's
    Maya Chen", when only one email is given), or made from the address."""
    told = _TOLD_NAME.search(text) if len(emails(text)) == 1 else None
    name = name_near_email(text, email) or (told.group(1) if told else None)
    return {"name": name or name_from_email(email), "email": email}


def capitalised_name_after(text: str, words: str) -> str | None:
    """'envelopes sent to Bob Smith' -> 'Bob Smith' (words: a regex alternation like 'to|from')."""
    match = re.search(rf"\b(?:{words})\s+({NAME_WORD}(?:\s+{NAME_WORD}){{0,2}})", text)
    if not match:
        return None
    name = [w for w in match.group(1).split() if w.lower() not in NOT_NAMES]
    return " ".join(name) or None


def number_after(text: str, pattern: str) -> int | None:
    match = re.search(pattern, text, re.IGNORECASE)
    return int(match.group(1)) if match else None


# --- dates -----------------------------------------------------------------------------------------------
def parse_date(text: str, today: dt.date) -> dt.date | None:
    text = text.strip().lower().rstrip(".")
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            year, month, day = (int(p) for p in text.split("-"))
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", text):
            month, day, year = (int(p) for p in text.split("/"))
            return dt.date(year + 2000 if year < 100 else year, month, day)
        words = re.findall(r"[a-z]+|\d+", text)
        month = next((MONTHS[w] for w in words if w in MONTHS), None)
        numbers = [int(w) for w in words if w.isdigit()]
        if month is None or not numbers:
            return None
        day = numbers[0] if numbers[0] <= 31 else None
        year = next((n for n in numbers if n > 31), None)
        if day is None:
            return None
        if year is None:
            year = today.year if dt.date(today.year, month, day) <= today else today.year - 1
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_range(text: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The period a request talks about, as (from_date, to_date); (None, None) when it names none."""
    low = text.lower()
    monday = today - dt.timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    relative = re.search(r"\b(?:last|past|previous)\s+(\d+)\s+(day|week|month)s?\b", low)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        days = amount * {"day": 1, "week": 7, "month": 30}[unit]
        return today - dt.timedelta(days=days), None
    if re.search(r"\b(?:(?:in|over|during|within) the (?:past|last)|past) week\b", low):
        return today - dt.timedelta(days=7), None
    if re.search(r"\blast week\b|\bprevious week\b", low):
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if re.search(r"\bthis week\b", low):
        return monday, None
    if re.search(r"\blast month\b|\bprevious month\b", low):
        end = first_of_month - dt.timedelta(days=1)
        return end.replace(day=1), end
    if re.search(r"\bthis month\b", low):
        return first_of_month, None
    if re.search(r"\byesterday\b", low):
        day = today - dt.timedelta(days=1)
        return day, day
    if re.search(r"\btoday\b", low):
        return today, None
    dates = [(m.start(), parse_date(m.group(0), today)) for m in DATE_RE.finditer(text)]
    dates = [(pos, d) for pos, d in dates if d is not None]
    if len(dates) >= 2 and re.search(r"\b(between|from)\b", low):
        return min(dates[0][1], dates[1][1]), max(dates[0][1], dates[1][1])
    if dates:
        pos, day = dates[0]
        lead = low[:pos]
        if re.search(r"\b(before|until|till|up to)\s*$", lead):
            return None, day
        if re.search(r"\b(since|after|from)\s*$", lead):
            return day, None
        return day, day
    return None, None


def _unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.lower() not in {k.lower() for k in seen}:
            seen[item] = None
    return list(seen)
