"""The words the rule-based planner understands, and the everyday ways people say them.

Three tables, all about the language of e-signature work and none about any one conversation:

- `DOMAIN_WORDS`: every word the rules look for. A misspelt word is corrected to the nearest of these
  (see normalise.py), so the table is also the spelling list.
- `ABBREVIATIONS`: long names of common agreement kinds, written the way template names use them.
- `PARAPHRASES`: verb classes and constructions ("get X out to P", "obtain a signature from P on X", "call
  off", "chase") rewritten into the canonical verbs the intent rules read (send, void, remind, correct...).
  Each entry is a construction of English, with slots for whatever fills it.
"""

from __future__ import annotations

import re

# --- the spelling list -------------------------------------------------------------------------------------
_VERBS = """
send sent sending resend remind reminder reminders nudge chase ping void voided cancel cancelled canceled withdraw
revoke recall correct correction change update fix edit rename replace swap switch download export list show
display give get fetch grab open describe summarize summarise summary analyse analyze analysis review check
create make prepare save draft drafts sign signed signing signer signers signature signatures sign-off route
bulk forward email mail deliver dispatch circulate obtain collect request need needs needed want wanted like
remember forget forgot memorise memorize store keep delete remove erase find look search tell know stop skip
approve approval confirm upload uploaded attach attached attachment please could would should can will
""".split()
_NOUNS = """
envelope envelopes template templates document documents doc docs file files contract contracts agreement
agreements nda ndas msa sow letter offer form forms copy copies pdf certificate archive zip batch batches status
recipient recipients address email emails name names link url reason history audit trail events activity
timeline contact contacts default preferred memory memories everything anyone someone everyone person people
signature terms risks risk clause clauses parties party dates date renewal termination payment question
completed pending waiting outstanding declined delivered finished unsigned sent drafts latest recent last
first second third fourth fifth next previous other one ones both all each every most newest oldest
""".split()
_FUNCTION = """
the a an to for from with of on in at by and or but then also my our your their his her its it this that these
those them him she he they we you me us i is are was were be been being has have had do does did not no yes
what which who whom whose when where why how there here so because since as due instead wrong right new old
again now today yesterday week month year ago before after until about out up over off into onto than just
still yet already any some many much more less only very really quick quickly asap soon thanks thank hi hello
""".split()
DOMAIN_WORDS: tuple[str, ...] = tuple(dict.fromkeys(_VERBS + _NOUNS + _FUNCTION))

# Shorthand people type, expanded before anything else reads the text.
SHORTHAND = {
    "pls": "please", "plz": "please", "pls.": "please", "u": "you", "ur": "your", "thx": "thanks", "ty": "thanks",
    "w/": "with", "abt": "about", "msg": "message", "docs": "documents", "doc": "document", "sig": "signature",
    "sigs": "signatures", "env": "envelope", "envs": "envelopes", "e-mail": "email", "e-sign": "sign",
    "esign": "sign", "e-signature": "signature", "esignature": "signature", "wanna": "want to", "gonna": "going to",
    "gotta": "have to", "r": "are", "b4": "before", "2day": "today", "bc": "because", "b/c": "because",
    "cuz": "because", "coz": "because", "bcoz": "because",
}

# Agreement kinds as template names usually spell them.
ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\bnon[- ]?disclosure(?:\s+agreement)?s?\b", "NDA"),
    (r"\bconfidentiality agreements?\b", "NDA"),
    (r"\bmaster services? agreements?\b", "MSA"),
    (r"\bstatements? of work\b", "SOW"),
]

# --- paraphrases into canonical verbs ------------------------------------------------------------------------
UPPER = "A-ZÀ-ÖØ-Þ"
NAME = rf"(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s+)?(?-i:[{UPPER}])[\w'’.-]*(?:\s+(?-i:[{UPPER}])[\w'’.-]*){{0,3}}"
EMAIL = r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+"
_PERSON = rf"(?P<who>(?:{NAME}\s*)?[<(\[]?\s*{EMAIL}\s*[>)\]]?|{NAME})"
_THING = r"(?P<thing>(?:the|our|my|this|that|a|an|these|those)\s+[^,;!?]+?|it|this|that|them)"
_END = r"(?=\s*(?:$|[,;.!?]|\b(?:please|asap|today|tomorrow|so|and|then|by|before|when|with|cc)\b))"
_SIGNATURE = r"(?:(?:a|an|the|their|his|her)\s+)?(?:e-?)?signatures?"

SEND_VERBS = r"(?:shoot|fire off|dispatch|forward|circulate|issue|deliver|mail|route|pass|hand|push|get)"

PARAPHRASES: list[tuple[str, str]] = [
    # "obtain/collect/get/request a signature from P on/for X" -> "send X to P"
    (rf"\b(?:obtain|collect|gather|request|get|secure|seek|need|want|require|await|ask for)\s+{_SIGNATURE}\s+(?:from|of)\s+{_PERSON}"
     rf"\s+(?:on|for|to)\s+{_THING}{_END}", r"send \g<thing> to \g<who>"),
    # "get X signed by P" -> "send X to P"
    (rf"\b(?:get|have|need|want|like)\s+{_THING}\s+(?:(?:e-?)?signed|executed|countersigned|signed off)\s+by\s+{_PERSON}",
     r"send \g<thing> to \g<who>"),
    # "have/get P (to) sign X" / "I need P to sign X" / "P needs to sign X"
    (rf"\b(?:have|get|need|want|ask|like|(?:arrange|organi[sz]e|set (?:it |things )?up) for)\s+{_PERSON}\s+(?:to\s+)?(?:e-?)?sign\s+{_THING}{_END}", r"send \g<thing> to \g<who>"),
    (rf"^(?:please\s+)?{_PERSON}\s+(?:needs|has|have|should|must)\s+(?:to\s+)?(?:e-?)?sign\s+{_THING}{_END}",
     r"send \g<thing> to \g<who>"),
    # "get X out/over to P", "shoot X over to P", "put X in front of P"
    (rf"\b(?:send|{SEND_VERBS[3:-1]})\s+{_THING}\s+(?:out|over|off|across|along|through)\b(?=\s+(?:to|for)\b|\s*$|\s*[,.!?]"
     r"|\s+(?:today|now|asap|please|soon|this)\b)", r"send \g<thing>"),
    (r"\s*(?:->|→|=>)\s*", " to "),
    (rf"\bput\s+{_THING}\s+in front of\b", r"send \g<thing> to"),
    (r"\b(?:shoot|fire off|dispatch|forward|circulate|deliver|route)\b(?!\s+(?:me|link))", "send"),
    (r"^(?P<lead>(?:please\s+|kindly\s+|(?:can|could|would|will) you(?: please)?\s+)*)(?:e-?mail|mail)\s+(?=the\b|our\b|my\b|this\b|that\b|it\b|an?\b)",
     r"\g<lead>send "),
    # purpose phrases that only restate the request
    (r"[,\s]*\bso (?:that )?(?:she|he|they|it|we|you|i|[A-Z][\w'’-]*) (?:can|could|may|will) (?:e-?)?sign(?: it| them| that)?\b",
     ""),
    (r"\bfor (?:her|his|their|your) (?:e-?)?signatures?\b", "for signature"),
    # "do a bulk send of X", "kick off a mass mailing with X" -> "bulk send X"
    (r"\b(?:do|run|start|kick off|launch|set up|make|send out)\s+(?:a|an|the)\s+(?:bulk|mass)[- ]?(?:send(?:ing|-out)?|mailing|"
     r"signing)(?:\s+(?:of|for|with|using))?\b", "bulk send"),
    # voiding
    (r"\b(?:call(?:ing)? off|kill|scrap|scratch|nix|rescind|retract|abort|trash|pull back|take back)\b"
     r"(?=.*\b(?:envelope|nda|msa|sow|agreement|contract|letter|document|it|that|this|one|to|for|sent)\b)", "void"),
    (r"\b(?:delete|remove|get rid of)\b(?=.*\b(?:envelope|envelopes|sent|to\s+\S+@)\b)", "void"),
    # reminding
    (r"\b(?:nudge|chase|ping|poke|prod|hurry|bump|jog)\b", "remind"),
    (r"\bfollow(?:-| )?up (?:with|on)\b", "remind"),
    (r"\bsend (?:a |another )?reminders?\b(?: to)?", "remind"),
    (r"\bre-?send\b", "remind"),
    # downloading
    (r"\b(?:grab|fetch|pull down|export|save a copy of|save)\s+(?=(?:me\s+)?(?:the|a)\s+(?:signed|final|completed|pdf|copy|certificate))",
     "download "),
    # analysis
    (r"\b(?:sum up|boil down|break down|recap|digest|skim|brief me on|give me the gist of|gist of)\b", "summarize"),
    (r"\b(?:anything|something)\s+(?:risky|concerning|worrying|unusual|dangerous|problematic|dodgy|fishy)\b", "risks"),
    (r"\b(?:red flags?|gotchas?|pitfalls?|watch out for|look out for)\b", "risks"),
    # status
    (r"\bwhere (?:does|do) (?P<x>.+?) stand\b", r"status of \g<x>"),
    (r"\b(?:any )?(?:news|update|updates|the latest) (?:on|with)\b", "status of"),
    (r"\bgive\s+(?P<who>(?-i:[A-ZÀ-ÖØ-Þ])[\w'’-]*)\s+an?\s+(?:\w+\s+)?(?:reminder|nudge|ping|remind)\b", r"remind \g<who>"),
    (r"\bhow(?:'s| is| are) (?P<x>.+?) (?:going|coming along|doing)\b", r"status of \g<x>"),
]

# Words that introduce the reason of a void when it follows the request in the same sentence.
REASON_LEADS = r"because|since|as|due to|owing to|given that|seeing as|reason(?: is)?:?|the reason being"

# Cues that a clause corrects a recipient written wrongly.
CORRECTION_CUES = re.compile(
    r"\b(?:wrong|incorrect|mistyped|misspel+ed|typo|outdated|old address|should (?:have )?be(?:en)?|instead|"
    r"replace|swap|switch|not\s+\S+@\S+\s+but|use\s+\S+@|is now|changed to|new (?:email|address))\b", re.I)

# Generic words that name a document without saying which ("the document", "the paperwork").
GENERIC_DOCUMENT_NOUNS = {"document", "documents", "doc", "docs", "file", "files", "paperwork", "form", "forms",
                          "pdf", "contract", "agreement", "attachment", "thing", "envelope", "one", "copy", "it",
                          "this", "that", "them"}

ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
            "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1,
            "latter": -1, "former": 0, "top": 0, "bottom": -1}
