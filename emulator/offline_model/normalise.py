"""Bring a request into the planner's canonical wording before any rule reads it.

Four passes, in order: shorthand ("pls", "u") is expanded; misspelt words are corrected to the nearest word of
the domain vocabulary (optimal-string-alignment edit distance, so "teh" and "sned" are one swap away from "the"
and "send"), leaving alone real English words, capitalised names and everything that must stay byte-exact
(emails, ids, file names, links, quoted text); long names of agreement kinds become the short names templates
use; and paraphrases become the canonical verbs (vocabulary.PARAPHRASES). Normalising twice changes nothing.
"""

from __future__ import annotations

import functools
import re

from rapidfuzz.distance import OSA
from rapidfuzz import process
from spellchecker import SpellChecker

from . import vocabulary

_PROTECTED = re.compile(
    r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+"                                     # emails
    r"|https?://\S+"                                                       # links
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"  # envelope and batch ids
    r"|\"[^\"]*\"|“[^”]*”|‘[^’]*’|\[attached file[^\]]*\]"                 # quoted text, attached files
    r"|[\w()-]+(?:[.-][\w()]+)*\.(?:pdf|docx?|txt|rtf|html?|xlsx?|csv|pptx?|png|jpe?g|odt)\b",  # file names
    re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?[,!. ]+(?=\S.{6,})", re.I)
# A scheduled task's run starts with its instruction behind this note (tools/schedules.py): the note asks nothing.
_TASK_NOTE = re.compile(r"^\s*scheduled task:\s*", re.I)
_COMMON = 1e-6  # English words at least this frequent are never "corrected"


def normalise(text: str) -> str:
    """The canonical wording of `text` (see the module docstring)."""
    text = _GREETING.sub("", _TASK_NOTE.sub("", text))
    text = _by_word(text, _shorthand)
    text = _by_word(text, correct_spelling)
    for pattern, short in vocabulary.ABBREVIATIONS:
        text = _outside_protected(text, lambda piece, p=pattern, s=short: re.sub(p, s, piece, flags=re.I))
    return _outside_quotes(text, _paraphrase)


def correct_spelling(word: str, sentence_start: bool = False) -> str:
    """`word`, or the domain word it is a misspelling of."""
    low = word.lower()
    if len(low) < 3 or low in _domain() or (word[0].isupper() and not sentence_start) or "'" in low or "’" in low:
        return word
    english = _english()
    if low in english and english.word_usage_frequency(low) >= _COMMON:
        return word
    limit = 1 if len(low) <= 5 else 2
    found = process.extract(low, _domain_list(), scorer=OSA.distance, score_cutoff=limit, limit=8)
    candidates = [(distance, index, choice) for choice, distance, index in found
                  if len(low) > 3 or _slip_of(low, choice)]
    if low in english:  # a rare real word: only an obvious slip of a domain word
        candidates = [c for c in candidates if c[0] == 1 and len(low) >= 5]
    if not candidates:
        return word
    distance, _, best = min(candidates, key=lambda c: (c[0], c[2][0] != low[0], not _slip_of(low, c[2]),
                                                       abs(len(c[2]) - len(low)), c[1]))
    return best.capitalize() if word[0].isupper() else best


def _slip_of(short: str, word: str) -> bool:
    """The two commonest slips: two letters swapped ("teh") or one left out ("snd", "ofer")."""
    if len(word) == len(short):
        return sorted(word) == sorted(short)
    letters = iter(word)
    return len(word) == len(short) + 1 and word[0] == short[0] and all(c in letters for c in short)


def _shorthand(word: str, sentence_start: bool = False) -> str:
    expanded = vocabulary.SHORTHAND.get(word.lower())
    if expanded is None:
        return word
    return expanded.capitalize() if word[0].isupper() else expanded


def _by_word(text: str, change) -> str:
    """Apply `change(word, sentence_start)` to each word outside the protected spans."""
    def fix(piece: str, starts: bool) -> str:
        out, last = [], 0
        for match in _WORD.finditer(piece):
            before = piece[last:match.start()]
            start = (starts and not piece[:match.start()].strip()) or bool(re.search(r"[.!?]\s*$", before))
            out += [before, change(match.group(0), start)]
            last = match.end()
        return "".join(out) + piece[last:]

    return _outside_protected(text, fix, with_start=True)


def _outside_protected(text: str, change, with_start: bool = False) -> str:
    out, last = [], 0
    for match in _PROTECTED.finditer(text):
        piece = text[last:match.start()]
        out += [change(piece, last == 0) if with_start else change(piece), match.group(0)]
        last = match.end()
    tail = text[last:]
    out.append(change(tail, last == 0) if with_start else change(tail))
    return "".join(out)


def _outside_quotes(text: str, change) -> str:
    """Hide quoted text (subjects, messages, questions) from `change`, then put it back unchanged."""
    quotes = re.compile(r"\"[^\"]*\"|“[^”]*”|\[attached file[^\]]*\]")
    kept = [m.group(0) for m in quotes.finditer(text)]
    masked = quotes.sub(lambda m: f"\ue000{kept.index(m.group(0))}\ue001", text)
    changed = change(masked)
    return re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], changed)


def _paraphrase(text: str) -> str:
    for pattern, canonical in vocabulary.PARAPHRASES:
        text = re.sub(pattern, canonical, text, flags=re.I)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


@functools.cache
def _domain() -> frozenset[str]:
    return frozenset(vocabulary.DOMAIN_WORDS)


@functools.cache
def _domain_list() -> tuple[str, ...]:
    return tuple(w for w in vocabulary.DOMAIN_WORDS if len(w) >= 3 and w.isalpha())


@functools.cache
def _english() -> SpellChecker:
    """The English word list with frequencies that pyspellchecker ships (loaded once per process)."""
    return SpellChecker(language="en", distance=1)
