"""How people phrase requests: splitting a message into steps and recognising what each step asks for.

`classify` maps one clause to an intent kind; the helpers recognise the words that choose a status, a
download, an analysis kind, a template name or a batch. Slot filling lives in `intents.py`.
"""

from __future__ import annotations

import re

from . import corrections, extract, schedules

# Intent kind -> the tool it needs. "send" picks send_document or send_template later.
TOOL_OF = {
    "list_envelopes": "list_envelopes", "more": "list_envelopes", "status": "get_envelope_status",
    "list_templates": "list_templates", "get_template": "get_template",
    "envelope_documents": "list_envelope_documents", "audit": "get_audit_events",
    "my_documents": "list_my_documents", "send_draft": "send_draft", "signing_link": "create_signing_link",
    "remind": "remind_recipients", "correct": "correct_recipient", "void": "void_envelope",
    "download": "download_document", "bulk_send": "bulk_send", "bulk_status": "get_bulk_send_status",
    "analyze": "analyze_document", "ask": "ask_document", "remember": "remember", "forget": "forget",
    "list_memories": "list_memories", "schedule": "schedule_task", "list_tasks": "list_scheduled_tasks",
    "cancel_task": "cancel_scheduled_task",
}

_SEND_VERB = re.compile(
    r"\bsend\b|(?<!waiting )(?<!awaiting )(?<!out )(?<!pending )\bfor (?:e-?)?signatures?\b|\bget\b.*\bsigned\b|\bhave\b.*\bsign\b|\bneeds? to sign\b"
    r"|\bget (?:him|her|them|\w+) to sign\b"
    r"|\bsave\b.*\bdraft\b|\bprepare\b.*\b(?:draft|envelope)\b|\broute\b.*\bto\b",
    re.I,
)
_ANALYSIS = re.compile(
    r"summar|overview|tl;?dr|\bgist\b|\bkey terms?\b|\bparties\b|\bdates?\b|\brenew|\bamounts?\b|\brisk"
    r"|red flags?|\bconcerns?\b|\bsay(?:s)? about\b|\bmention|\banaly[sz]|\breview\b|\bclause|\bterminat"
    r"|\bobligation|\bdeadline|\bpayment|\bliabilit|\bwhat does\b|\bdoes\b.*\b(?:say|include|contain|allow)\b"
    r"|\?\s*$",
    re.I,
)
_ANALYSIS_STRONG = re.compile(r"summar|overview|tl;?dr|\bgist\b|\bkey terms?\b|\brisks?\b|red flags?|\bclauses?\b"
                              r"|\banaly[sz]|\bwhat does\b.*\b(?:say|mean|include|contain)\b|\bparties\b|\bnotice\b"
                              r"|\bterminat|\brenew|\bliabilit|\bgoverning law\b|\bobligations?\b", re.I)
_DOCUMENT_NOUN = re.compile(r"\b(?:contract|document|agreement|file|pdf|nda|msa|sow|letter|lease|attachment|upload"
                            r"|uploaded|attached|terms)\b")
_STOP_BEFORE_TEMPLATE = {
    "the", "a", "an", "my", "our", "your", "this", "that", "send", "show", "get", "use", "using", "with", "of",
    "from", "to", "and", "me", "open", "describe", "details", "about", "what", "is", "in", "on", "for", "bulk",
    "please", "view", "display", "see", "fill", "out", "via", "by", "whats", "what's", "tell", "info", "at", "look",
    "can", "could", "you", "which", "should", "i", "we", "do", "need", "have", "check", "review", "read", "pull", "up",
    "find", "open", "into",
}


_MEMORY_LIST = re.compile(
    r"\bwhat (?:do|did|else do) you (?:remember|know|recall|have (?:saved|stored|on file))\b|\b(?:list|show|see|view|what are)"
    r"\b.*\b(?:memories|what you remember|(?:saved|remembered|my) contacts|defaults)\b|\bwho (?:do you|is in my) "
    r"(?:remember|contacts)\b", re.I)
# Words a person puts before the request itself ("actually, forget Sia", "ok and now ...").
LEAD_IN = (r"(?:(?:actually|oh|ok(?:ay)?|also|and|wait|hmm+|sorry|no|so|now|then|please|kindly|can you|could you"
           r"|would you|you can)[,\s]+)*")
_MEMORY_FORGET = re.compile(
    rf"^\s*{LEAD_IN}(?:forget|unlearn|stop (?:copying|cc'?ing|remembering)|don'?t remember|don'?t (?:copy|cc)"
    r"(?= .*\b(?:every|all|default|anymore|any more)\b)|no longer (?:copy|cc)|erase|wipe|clear)\b"
    r"|\bremove\b.*\bfrom (?:my |your )?(?:contacts|memory|memories|defaults?)\b", re.I)
_MEMORY_REMEMBER = re.compile(
    r"\b(?:remember|memori[sz]e|keep in mind|note (?:down|that)|make a note)\b.*(?:@|\btemplate\b|\bcontacts?\b)"
    r"|\b(?:add|save|store)\b.*\b(?:to|in|as) (?:my |a |your )?(?:contacts?|address book)\b|\b(?:always|by default|from now on)\b.*\b(?:cc|copy|copies)\b"
    r"|\b(?:cc|copy)\b.*\b(?:on (?:every|all|each)|from now on|by default)|\b(?:preferred|default|usual|go-to)\s+template\b|\btemplate\b.*\bby default\b", re.I)


def memory_kind(clause: str) -> str | None:
    """'list_memories', 'forget', 'remember', or None when the clause is not about memory."""
    if _MEMORY_LIST.search(clause):
        return "list_memories"
    if _MEMORY_FORGET.search(clause):
        return "forget"
    # "send" as this request's verb rules memory out; "everything I send" only says what a default covers
    if _MEMORY_REMEMBER.search(clause) and not re.search(
            r"\bdraft\b|(?<!\bi )(?<!\bwe )(?<!\bi'll )(?<!\bwe'll )\bsend\b(?! .*\bby default\b)", clause, re.I):
        return "remember"
    return None


def split_clauses(text: str) -> list[str]:
    """'send X to bob and then give me the signing link' -> two clauses; pieces with no request of their own
    (a CSV line, '..., then carol@y.com') stay with the clause before them."""
    parts = re.split(r"(,?\s+and then\s+|[,;.]\s*then\s+|;\s+|(?<=[a-z0-9)])[.!?]\s+(?=[A-Z])|\n+)", text.strip())
    clauses: list[str] = []
    for index in range(0, len(parts), 2):
        piece = parts[index]
        separator = parts[index - 1] if index else ""
        title = bool(clauses) and separator.startswith(".") and re.search(r"\b(?:Dr|Mr|Mrs|Ms|Mx|Prof|St)$",
                                                                            clauses[-1])
        if clauses and (title or classify(piece) is None or _keeps_with_previous(clauses[-1], piece)):
            clauses[-1] = clauses[-1] + separator + piece
        elif piece.strip():
            clauses.append(piece.strip())
    return clauses or [text.strip()]


def _keeps_with_previous(previous: str, piece: str) -> bool:
    """A CSV line stays with its bulk send; the details of a correction ("...; Xena Ford (x@y.com) will sign
    instead", ". Use b@y.com instead") stay with it unless they start a request of their own."""
    low = previous.lower()
    if extract.emails(piece) and classify(previous) in {"send", "bulk_send"} and classify(
            extract.EMAIL_RE.sub(" ", piece)) is None and not re.sub(
            rf"{extract.EMAIL_RE.pattern}|{extract.NAME_WORD}|\b(?i:and|also|plus|finally|lastly|last|then|after that|next|"
            r"second|third|first|b?cc|copy|copying|please)\b|[\s,;:&<>()\[\].]", "", piece):
        return True  # "send x.pdf to Ann (a@x) first and then Bo (b@y)": the people after "then" sign it too
    if classify(previous) == "correct" and not _OWN_REQUEST.match(piece):
        return True
    csv_line = re.fullmatch(r"[^,\n]+(?:,[^,\n]*)+", piece.strip())
    return bool(csv_line) and ("bulk" in low or "name,email" in low.replace(" ", ""))


_ATTACHED = re.compile(r"\s*\[attached file[^\]]*\]")
_PAST_SENDS = re.compile(r"\b(?:i|we)(?:'ve| have| had)? (?:already |ever |just )?sent\b|\b(?:did|have|has) (?:i|we|anyone) (?:ever |already )?"
                         r"(?:send|sent)\b|\b(?:everything|anything|all|whatever)\s+(?:that\s+)?(?:was\s+|has been\s+|been\s+)?sent\b")
_ASKS = re.compile(r"^\s*(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:show|list|give|tell|what|which|did|have|has|who|anything"
                   r"|everything|find|how many)\b")
_STATE_QUESTION = re.compile(r"^\s*(?:is|has|was|are|have|were)\b.*\b(?:done|finished|complete|completed|signed|sent|out|"
                             r"voided|declined|delivered|viewed|opened|through)\b")
_ENVELOPE_FILES = re.compile(r"\b(?:what|which|list|show|how many|give me)\b.*\b(?:documents|files|attachments|docs|pdfs?)\b")
_DRAFTING = re.compile(r"\b(?:put|place|set up|create|make|build|prepare|save|load|stage)\b.*\bdraft\b|\bdraft envelope\b")
_OWN_REQUEST = re.compile(r"\s*(?:(?:and|also|then|please|now)\s+)*(?:send|remind|void|cancel|list|show|download|"
                          r"check|tell|give|summari[sz]e|bulk|remember|forget|what|who|when|where|how|is|are|has)\b",
                          re.I)


def classify(clause: str) -> str | None:
    has_file = bool(extract.filenames(clause))
    clause = _ATTACHED.sub("", clause)  # the note of an attached file names it; its words ask nothing
    low = clause.lower().strip()
    has_guid = bool(extract.guids(clause))
    if re.fullmatch(r"(?:ok(?:ay)?[, ]*)?(?:thanks|thank you|thx|cheers|great|perfect)[!. ]*(?:a lot|so much)?[!. ]*", low):
        return "thanks"
    if re.fullmatch(r"(?:hi|hello|hey|help|\?|what can you do\??|what do you do\??|how do (?:i|you) use (?:this|you)\??)"
                    r"[!. ]*(?:there)?[!. ]*", low):
        return "help"
    memory = memory_kind(clause)
    if memory:
        return memory
    timed = schedules.kind(clause)
    if timed == "schedule" and not schedules.recurs(clause) and classify(schedules.instruction(clause)) is None:
        timed = None  # "what's the weather tomorrow?" names a day but asks nothing to be done on it
    if timed:
        return timed
    if re.search(r"\bbatch(?:es)?\b|\bbulk[- ]?sends?\b(?!\s+(?:the|a|an|our|my|this|that|to)\b)", low) and re.search(r"\bstatus\b|\bprogress\b|\bhow\b|\bdoing\b|\bcheck\b|\bgoing\b|\bdone\b", low):
        return "bulk_status"
    if re.search(r"\bbulk\b|\bmass[- ]send\b|\bto (?:each|every) (?:one )?of\b|name\s*,\s*email", low):
        return "bulk_send"
    if re.search(r"\bvoid\b|\bcancel\b|\bwithdraw\b|\brevoke\b|\brecall\b", low):
        return "void"
    found = extract.emails(clause)
    if corrections.is_correction(clause):
        return "correct"
    if re.search(r"\bremind|\bnudge\b|\bresend\b|\bchase\b|\bfollow[- ]up\b|\bping\b", low):
        return "remind"
    if re.search(r"\bsign(?:ing)?[- ](?:link|url|session|view)\b|\blink to sign\b|\bembedded signing\b", low) or (
            re.search(r"\bin person\b|\bsign\b.*\b(?:here|now|on (?:my|this) (?:screen|device|tablet|laptop))\b", low)
            and not found and not _SEND_VERB.search(low.replace("sign", ""))):
        return "signing_link"
    if re.search(r"\bdownload|\bcertificate\b|\barchive\b|\bzip\b|\bsigned (?:pdf|copy|copies|documents?)\b"
                 r"|\bcombined pdf\b|\b(?:get|give|send) me (?:the |a )?(?:pdf|copy)\b|\bexport\b", low):
        return "download"
    if re.search(r"\baudit|\bhistory\b|\bactivity\b|\bevents?\b|\btimeline\b|\btrail\b", low):
        return "audit"
    if (_ENVELOPE_FILES.search(low) or re.match(r"\s*what(?:'s| is) (?:inside |in )", low)) and (
            has_guid or re.search(r"\benvelope\b", low)) and not _SEND_VERB.search(low):
        return "envelope_documents"  # "what documents are in envelope X?" lists them; it asks nothing of their text
    if _STATE_QUESTION.search(low) and (has_guid or re.match(r"\s*\w+\s+(?:the|my|our|that|this|his|her|their)\b", low)
                                        and not _SEND_VERB.search(low)) or re.search(
            r"\bwhere(?:'s| is| are)\b", low) and has_guid:
        return "status"  # "is X done?", "where is X at?" ask the envelope's state, not the document's text
    if has_guid and re.search(r"\bwho (?:has )?(?:opened|viewed|saw|looked at|received)\b|\bwhen did\b.*\b(?:open|view|sign|receiv)",
                              low):
        return "audit"  # "who opened X and when?" is in the envelope's history
    analysis = ((has_file or has_guid or re.search(r"\b(?:the|this|that) (?:contract|document|agreement|file)\b", low))
                and _ANALYSIS.search(clause) or _DOCUMENT_NOUN.search(low) and _ANALYSIS_STRONG.search(clause)) \
        and not _SEND_VERB.search(low) and not _DRAFTING.search(low)
    if analysis and not re.search(r"\bstatus\b" if has_file and not has_guid else r"\bstatus\b|\bwho\b.*\bsign", low):
        return analysis_kind(clause)
    if re.search(r"\bupload|\bmy (?:documents|files|docs)\b|\b(?:documents|files) i (?:have|uploaded)\b", low) \
            and not has_guid and not _SEND_VERB.search(low):
        return "my_documents"
    if re.search(r"\b(?:documents?|files?|attachments?|docs)\b", low) and (
            has_guid or re.search(r"\benvelope\b|\bin (?:it|that|this)\b", low)) and not _SEND_VERB.search(low):
        return "envelope_documents"
    if re.match(r"\s*(?:who|has|have|did|is|are|whose)\b", low) and re.search(r"\bsign", low) and (
            not found or re.match(r"\s*(?:who|has|did|is|are|whose)\b|\s*have\b.*\bsigned\b", low)) and not (
            has_file and not has_guid and not found) and not (
            re.match(r"\s*have\s+(?:him|her|them|\w+)\s+sign\b(?!ed)", low)):  # "have her sign the NDA" sends
        return "status"  # "who still needs to sign the MSA?" asks; it does not send
    if re.search(r"\btemplate\b", low) and not found and not re.search(r"\b(?:which|what|any|a) template\b", low) and (re.search(r"\broles?\b|\bfields?\b|\bwho (?:needs|has|signs)\b", low)
                                                       or _ASKS.search(low) and not _SEND_VERB.search(low)):
        return "get_template"  # "what is in the offer letter template, and who signs it?" asks about the template
    if not has_guid and re.search(r"\bstatus(?:es)? (?:of|on|for) (?:everything|all|each|every)\b", low):
        return "list_envelopes"  # the status of everything sent is a list of envelopes with their statuses
    if _PAST_SENDS.search(low) and _ASKS.search(low) and not re.search(r"\bstatus\b|\bsign", low):
        return "list_envelopes"  # "what did I send to x@y.com?" asks about envelopes; it sends nothing
    if _SEND_VERB.search(low) or _DRAFTING.search(low) or re.search(r"\bas (?:a )?draft\b", low):
        return "send"
    if re.search(r"\bstatus\b|\bsigned\b|\bsign yet\b|\bwho\b.*\bsign|\bwhere (?:is|are)\b|\bcheck on\b"
                 r"|\bdetails\b|\bprogress\b|\bwaiting on\b|\blook up\b|\bhas\b.*\bsign|\bwhat happened\b", low) \
            and (has_guid or not re.search(r"\benvelopes\b|\bmy\b", low) or re.search(r"\b(?:has|did)\b", low)):
        return "status"
    if re.search(r"\btemplates\b|\bwhich template\b|\bwhat template\b|\blist (?:the |my )?template\b", low):
        return "list_templates"
    if re.search(r"\btemplate\b", low):
        return "get_template"
    if re.fullmatch(r"(?:show |list |get |give me |load )?(?:me )?(?:some |the )?(?:more|next(?: page| \d+)?|the rest"
                    r"|next page)(?: please)?[.!]?", low):
        return "more"
    if re.search(r"\benvelopes?\b|\bwaiting for\b|\bawaiting\b|\bpending\b|\boutstanding\b|\bdeclin(?:ed|e|es)\b|\bturned down\b|\bvoided\b"
                 r"|\bdrafts\b|\bcompleted\b|\bwhat(?:'s| is| have i| did i)\b.*\b(?:sent|signed|waiting)\b"
                 r"|\bout for signature\b", low):
        return "list_envelopes"
    if has_guid:
        return "status"
    if found:  # terse: "nda to x@y.com", "x@y.com: the offer letter"
        return "send"
    return None


def about_a_document(clause: str) -> bool:
    """Whether the clause asks something a document's text answers (when it is clear which document)."""
    clause = _ATTACHED.sub("", clause)
    return bool(_ANALYSIS.search(clause)) and not _SEND_VERB.search(clause.lower())


def analysis_kind(clause: str) -> str:
    """'analyze' (with kind in `analysis_mode`) or 'ask'."""
    return "ask" if analysis_mode(clause) == "question" else "analyze"


def analysis_mode(clause: str) -> str:
    low = _ATTACHED.sub("", clause).lower()
    if re.search(r"\brisk|red flags?|\bconcerns?\b|\bdanger|\bwatch out\b|\bproblems?\b", low):
        return "risks"
    if re.search(r"summar|overview|tl;?dr|\bgist\b|\bwhat is\b.*\babout\b|\bbrief me\b", low):
        return "summary"
    if re.search(r"\bsay(?:s)? about\b|\bmention|\bwhat does\b|\bdoes\b|\bis there\b|\bare there\b|\bcan (?:i|we)\b", low):
        return "question"
    if re.search(r"\bkey terms?\b|\bterms\b|\bparties\b|\bdates?\b|\brenew|\bamounts?\b|\bdeadlines?\b"
                 r"|\bobligations\b|\bwho (?:are|is) the part", low):
        return "key_terms"
    if "?" in low or re.match(r"\s*(?:what|when|who|how|why|where|which|is|are|does|do|can)\b", low):
        return "question"
    return "summary"


def status_word(clause: str) -> str | None:
    """The envelope status a request filters by, if it names one."""
    low = clause.lower()
    if re.search(r"\bdrafts?\b", low):
        return "created"
    if re.search(r"\bdeclin(?:ed|e|es|ing)\b|\brefused\b|\bturned down\b", low):
        return "declined"
    if re.search(r"\bvoided\b|\bcancell?ed\b", low):
        return "voided"
    if re.search(r"\bwaiting\b|\bawaiting\b|\bpending\b|\boutstanding\b|\bunsigned\b|\bnot (?:yet )?signed\b"
                 r"|\b(?:hasn'?t|haven'?t|has not|have not|didn'?t|did not|never) (?:yet )?signed\b|\byet to sign\b"
                 r"|\bout for signature\b|\bin progress\b|\bsent envelopes\b|\bopen envelopes\b|\bin flight\b|\bstill out\b"
                 r"|\bnot (?:yet )?back\b", low):
        return "sent"
    if re.search(r"\bdelivered\b|\bopened\b|\bviewed\b", low):
        return "delivered"
    if re.search(r"\bcompleted\b|\bfinished\b|\b(?:fully |been |were |was |are |all )?signed\b|\bdone\b", low):
        return "completed"
    return None


def download_kind(clause: str) -> str:
    low = clause.lower()
    if re.search(r"\bcertificate\b|\bcoc\b", low):
        return "certificate"
    if re.search(r"\barchive\b|\bzip\b", low):
        return "archive"
    match = re.search(r"\bdocument (?:id |#|number )?(\d+)\b", low)
    return match.group(1) if match else "combined"


def wants_all(clause: str) -> bool:
    return bool(re.search(r"\ball\b|\bevery\b|\beveryone on\b|\beach\b|\benvelopes\b", clause.lower()))


def wants_latest(clause: str) -> bool:
    return bool(re.search(r"\blatest\b|\bmost recent\b|\bnewest\b|\blast (?:envelope|one)\b|\brecent\b", clause.lower()))


def template_name(clause: str) -> str | None:
    """'the NDA template' -> 'NDA'; 'template "Offer Letter"' -> 'Offer Letter'."""
    match = re.search(r"template\s+(?:named\s+|called\s+)?[\"“']([^\"”']+)[\"”']", clause, re.I) or re.search(
        r"[\"“']([^\"”']+)[\"”']\s+template", clause, re.I)
    if match:
        return match.group(1).strip()
    match = re.search(r"((?:[\w&'’-]+\s+){1,5})templates?\b", clause, re.I)
    if match:
        words: list[str] = []
        for word in reversed(match.group(1).split()):
            if word.lower() in _STOP_BEFORE_TEMPLATE or "@" in word:
                break
            words.insert(0, word)
        if words:
            return " ".join(words)
    match = re.search(r"\btemplate\s+(?:named\s+|called\s+)?([A-Z0-9][\w&-]*(?:\s+[A-Z0-9][\w&-]*)*)", clause)
    return match.group(1) if match else None


def sent_object(clause: str) -> str | None:
    """'send the NDA to bob' -> 'NDA': what is being sent when it is not a file or a 'template'."""
    match = re.search(r"\bsend\s+(?:out\s+)?(?:the\s+|our\s+|my\s+|an?\s+)?(.+?)\s+(?:to|for)\b", clause, re.I)
    if not match:
        return None
    thing = match.group(1).strip()
    if "@" in thing or thing.lower() in {"it", "this", "that", "them", "envelope", "the envelope", "document", "draft",
                                         "a copy", "copy", "reminder", "reminders", "link", "everyone"}:
        return None
    return thing if len(thing.split()) <= 5 else None


def batch_ref(clause: str) -> str | None:
    found = extract.guids(clause)
    if found:
        return found[0]
    quotes = extract.quoted(clause)
    if quotes:
        return quotes[0]
    match = re.search(r"\bbatch\s+(?:named\s+|called\s+|id\s+)?([\w][\w-]*(?:\s+[\w-]+)*?)\s*(?:[?.!,]|\bdoing\b|$)",
                      clause, re.I)
    if match and match.group(1).lower() not in {"status", "send", "i sent", "is", "the"}:
        return match.group(1)
    match = re.search(r"\bthe\s+([\w][\w\s-]*?)\s+batch\b", clause, re.I)
    if match and match.group(1).lower() not in {"bulk", "last", "latest"}:
        return match.group(1)
    return None
