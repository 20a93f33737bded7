"""Document analysis by rule, for the offline model.

The product's analysis prompt starts with `# document-analysis <version> kind=<kind>` and carries the text in
`<document>` tags; this module answers it with the JSON the prompt asks for, built from what the text really
says (sentences, dates, amounts and parties found by pattern), and says so when the text does not say.
"""

from __future__ import annotations

import json
import re
from typing import Any

HEADER = re.compile(r"^#\s*document-analysis\s+\S+\s+kind=(\w+)", re.M)
DOCUMENT = re.compile(r"<document>\n?(.*?)\n?</document>", re.S)
QUESTION = re.compile(r"Question:\s*(.+)\s*$", re.S)
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE = re.compile(rf"\b(?:{MONTHS}\s+\d{{1,2}},\s+\d{{4}}|\d{{1,2}}\s+{MONTHS}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b")
AMOUNT = re.compile(r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|thousand|k))?|\b\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|dollars)\b)")
BETWEEN = re.compile(r"\bbetween\s+(.+?)\s+(?:\(.*?\)\s+)?and\s+(.+?)(?:\s+\(|[,.;]|$)", re.I | re.S)
LABELLED_PARTY = re.compile(r"^\s*(?:Party [AB12]|Client|Provider|Employer|Employee|Company|Candidate|Disclosing Party|"
                            r"Receiving Party)\s*:\s*(.+)$", re.I | re.M)
LAW = re.compile(r"governed by (?:and construed in accordance with )?the laws? of ([A-Z][\w ]+?)(?:[,.;]|$)", re.I)
STOP = set("the a an of to and or in on for is are be by with this that what which who when how does do it any "
           "there their shall will may about under".split())

RISK_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"ignore (?:all )?(?:previous|prior) instructions|disregard .*instructions", re.I),
     "Text that tries to instruct an AI assistant; treat the document with suspicion", "high"),
    (re.compile(r"automatic(?:ally)? renew|auto-renew", re.I), "Renews automatically unless someone gives notice", "medium"),
    (re.compile(r"unlimited liability|without limitation of liability", re.I), "Liability is not capped", "high"),
    (re.compile(r"indemnif", re.I), "One party must cover the other's losses (indemnity)", "medium"),
    (re.compile(r"liquidated damages|penalt", re.I), "Fixed damages or penalties apply", "high"),
    (re.compile(r"non-?compet", re.I), "Restricts working for or with competitors", "medium"),
    (re.compile(r"non-?solicit", re.I), "Restricts hiring or soliciting the other party's people or clients", "low"),
    (re.compile(r"exclusiv", re.I), "Exclusivity limits dealing with others", "medium"),
    (re.compile(r"terminat\w* .{0,60}(?:at any time|without cause|for convenience)", re.I),
     "Can be ended at any time without cause", "medium"),
    (re.compile(r"perpetual|irrevocabl", re.I), "A right or obligation that never ends or cannot be withdrawn", "medium"),
    (re.compile(r"waive", re.I), "A right is waived", "low"),
    (re.compile(r"late (?:payment )?(?:fee|interest)|interest .{0,30}overdue", re.I), "Late payments cost extra", "low"),
]


def sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.;!?])\s+(?=[A-Z0-9(])", flat) if len(s.strip()) > 3]


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item.strip(), None)
    return [i for i in seen if i]


def parties(text: str) -> list[str]:
    found = [m.strip().rstrip(",.") for m in LABELLED_PARTY.findall(text)]
    for a, b in BETWEEN.findall(text[:3000]):
        found += [a.strip().rstrip(","), b.strip().rstrip(",")]
    return _unique([p[:120] for p in found])[:6]


def _first(text: str, word: str) -> str | None:
    return next((s for s in sentences(text) if re.search(word, s, re.I)), None)


def key_terms(text: str) -> dict[str, Any]:
    law = LAW.search(text)
    return {
        "parties": parties(text),
        "dates": _unique(DATE.findall(text))[:10],
        "amounts": _unique([a.strip() for a in AMOUNT.findall(text)])[:10],
        "renewal": _first(text, r"renew"),
        "termination": _first(text, r"terminat"),
        "governing_law": law.group(1).strip() if law else None,
    }


def summary(text: str) -> dict[str, Any]:
    all_sentences = sentences(text)
    title = next((line.strip() for line in text.splitlines() if line.strip()), "The document")
    terms = key_terms(text)
    who = " and ".join(terms["parties"][:2]) if terms["parties"] else "its parties"
    lead = f"{title} is an agreement between {who}."
    highlights = [s for s in all_sentences if re.search(r"effective|term\b|pay|fee|salary|renew|terminat|confidential",
                                                        s, re.I)][:5]
    if not highlights:
        highlights = all_sentences[1:4]
    return {"summary": " ".join([lead, *highlights[:2]]), "highlights": highlights}


def risks(text: str) -> dict[str, Any]:
    found = []
    for sentence in sentences(text):
        for pattern, risk, severity in RISK_RULES:
            if pattern.search(sentence):
                found.append({"clause": sentence[:240], "risk": risk, "severity": severity})
                break
    return {"risks": found[:12]}


# What a question says in everyday words, and the words a contract uses for it ("get out of it early" is about
# termination). Each entry: a pattern over the question, and stems its answer's sentence may carry instead.
CONCEPTS: list[tuple[re.Pattern[str], set[str]]] = [
    (re.compile(r"\b(?:get out|exit|leave|walk away|back out|pull out|cancel|break|end (?:it|this|the)|early|quit|"
                r"stop)\b", re.I), {"termin", "cancel", "notice"}),
    (re.compile(r"\b(?:pay|paid|payment|invoice|owe|fee|cost|price|how much|due)\b", re.I),
     {"paymen", "pay", "invoic", "fee", "due", "net"}),
    (re.compile(r"\b(?:law|jurisdiction|court|disputes?)\b", re.I), {"govern", "law", "jurisd", "court"}),
    (re.compile(r"\b(?:renew|extend|roll over|last|how long|duration)\b", re.I), {"renew", "term", "year", "month"}),
    (re.compile(r"\b(?:secret|confidential|disclose|share)\b", re.I), {"confid", "disclo"}),
    (re.compile(r"\b(?:liable|liability|damages?|sue)\b", re.I), {"liabil", "damage", "indemn"}),
    (re.compile(r"\b(?:where|territory|region|countr)", re.I), {"territ", "countr", "region"}),
]


def _stem(word: str) -> str:
    """A crude stem, enough to meet "laws" with "law" and "governing" with "governed"."""
    if len(word) > 4:
        word = re.sub(r"(?:ing|ed|es|s)$", "", word)
    return word[:6]


def _passages(text: str) -> list[str]:
    """Sentences, with a heading ("Governing Law.") joined to the sentence under it, so it is never the answer."""
    out: list[str] = []
    for sentence in sentences(text):
        if out and len(out[-1].split()) <= 4 and not re.search(r"\d", out[-1]):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def answer(text: str, question: str) -> dict[str, Any]:
    words = {w for w in re.findall(r"[a-z]+", question.lower()) if w not in STOP and len(w) > 2}
    stems = {_stem(w) for w in words}
    related = set().union(*(extra for pattern, extra in CONCEPTS if pattern.search(question)))
    scored = []
    for sentence in _passages(text):
        tokens = {_stem(t) for t in re.findall(r"[a-z]+", sentence.lower())}
        score = len(stems & tokens) + len(related & tokens)
        if score:
            scored.append((score, sentence))
    if not scored:
        return {"answer": "The document does not say.", "quotes": []}
    scored.sort(key=lambda pair: -pair[0])
    best = [s for score, s in scored if score == scored[0][0]][:2]
    return {"answer": " ".join(best), "quotes": best}


def respond(system: str, user: str) -> str | None:
    """The JSON reply to an analysis prompt, or None when the request is not one."""
    header = HEADER.search(system)
    if header is None:
        return None
    kind = header.group(1)
    doc = DOCUMENT.search(user)
    text = doc.group(1) if doc else user
    after = user[doc.end():] if doc else ""
    question = QUESTION.search(after)
    if kind == "summary":
        result = summary(text)
    elif kind == "key_terms":
        result = key_terms(text)
    elif kind == "risks":
        result = risks(text)
    elif kind == "question":
        result = answer(text, question.group(1).strip() if question else "")
    else:
        result = {"text": f"The offline model cannot do the analysis kind {kind!r}."}
    return json.dumps(result)
