"""Slots of the requests that send: send_document, send_template, drafts and bulk sends.

What is sent is an uploaded file named in the clause (or attached earlier in the conversation), or a template
named however the person names it ("the NDA", "our mutual non-disclosure agreement", "the Offer Letter
template"); who signs comes from emails in the clause, or from names met earlier (people on envelopes, contacts
the user asked to be remembered).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import extract, phrasing, slots

if TYPE_CHECKING:
    from .intents import Context, Intent

UPLOADED = re.compile(r"\b(?:i|we) (?:just |have |'ve )?(?:uploaded|attached|added)\b|\buploaded\b|\bmy uploads?\b|"
                      r"\b(?:the|my|that) (?:upload|attachment|attached (?:file|document|pdf))\b", re.I)


def without_upload(clause: str) -> str:
    """The clause without the words that say a document was uploaded ("the lease I uploaded" -> "the lease")."""
    return re.sub(r"\s*\b(?:that |which )?(?:i|we) (?:just |have |'ve )?(?:uploaded|attached|added)\b(?: (?:earlier|"
                  r"before|yesterday|today|just now))?|\buploaded\s+", " ", clause, flags=re.I)


_NOT_PEOPLE = {"the", "sign", "me", "my", "it", "them", "everyone", "signature", "a", "an", "be", "review", "all",
               "then", "cc", "copy", "save", "send", "draft", "get", "us", "our", "him", "her", "this", "that",
               "signing", "approval", "you", "whom", "who", "someone", "anyone", "x", "legal", "review"}
_GENERIC = {"contract", "document", "agreement", "file", "pdf", "form", "paperwork", "attachment", "doc", "upload",
            "documents", "files"}


# "send him the NDA", "get it to her", "have them sign it": the person the conversation last named
_PRONOUN_SIGNER = re.compile(r"\b(?:send|to|for|get|email|give|forward|have|let)\s+(?:it\s+to\s+)?(?:him|her|them)\b"
                             r"|\b(?:him|her|them)\s+(?:sign|the\b)", re.I)


# "the same to rita@x.com", "another one for Bob", "that again to her": what was sent last, to someone else
_SAME = re.compile(r"\b(?:the same(?: one| thing| document| template| envelope| again)?|same (?:one|thing|again)|"
                   r"another one|one more|(?:it|that|this) again|again to)\b", re.I)


def send(intent: Intent, clause: str, ctx: Context) -> None:
    low = clause.lower()
    files = extract.filenames(clause)
    template = phrasing.template_name(clause) if re.search(r"\btemplate\b", low) else None
    found = extract.emails(clause)
    draft = bool(re.search(r"\bdrafts?\b", low))
    if not files and not template and _SAME.search(clause) and (earlier := ctx.last_sent()):
        if earlier.get("document"):
            files = [str(earlier["document"])]
        elif earlier.get("template"):
            template = str(earlier["template"])
    if not files and not template and not found:
        if draft and not re.search(r"\bsend\b", low):
            previous = ctx.previous_send_clause()
            if previous:
                send(intent, previous + " as a draft", ctx)
                return
            intent.missing("document", "What should I save as a draft? Tell me the document or template and the signers.")
            return
        if extract.guids(clause) or re.search(r"\bsend (?:out |off )?(?:it|the draft|my draft|that|this|the envelope)\b",
                                              low):
            intent.kind = "send_draft"
            return
    if not files and not template and UPLOADED.search(clause):
        intent.document_lookup = slots.specific_thing(without_upload(clause)) or ""
    elif not files and not template:
        thing = slots.named_thing(clause)
        if thing and not extract.guids(thing):
            thing = re.sub(r"\s+(?:template|document|doc|form)$", "", thing, flags=re.I)
            if thing.lower() in _VAGUE or thing.split()[0].lower() in _VAGUE:
                intent.missing("document", "Which document or template should I send? You can name an uploaded "
                                           "file (like contract.pdf) or a template (like the NDA template).")
                return
            if thing.lower() in _GENERIC or thing.lower() in {"for signature", "signature"}:
                recent = ctx.recent_document()
                files = [recent] if recent else []
                if not recent and ctx.has_tool("list_my_documents"):
                    intent.document_lookup = ""  # "the contract": the one the user uploaded
            elif not re.fullmatch(r"(?:for\s+)?(?:e-?)?signatures?", thing, re.I):
                template = thing
        elif re.search(r"\bsend (?:it|this|that|them)\b", low) and ctx.recent_document():
            files = [ctx.recent_document()]
    if intent.document_lookup is not None:
        files = ["?"]  # found by the lookup (steps.py); the people go in "signers"
    if not files and not template and found and ctx.preferred_template and not re.search(
            r"\b(?:document|file|contract|pdf|attachment)\b", low):
        template = ctx.preferred_template
    if files and files[0] != "?":
        intent.args["document"] = files[0]
    elif template:
        intent.args["template"] = plain_name(template)
    signers, cc = slots.people(clause, found)
    if not signers:
        names = [w for w in re.findall(r"\b(?:to|and|for)\s+([A-Za-zÀ-ÖØ-öø-ÿ][\w'’-]*)", clause)
                 if w.lower() not in _NOT_PEOPLE and w.lower() not in _GENERIC and "sign" not in w.lower()
                 and not (template and w.lower() in template.lower().split())]
        for name in names:
            email = ctx.email_for(name)
            if email:
                signers.append({"name": name.capitalize() if name.islower() else name, "email": email})
        if names and len(signers) < len(names):
            missing = next(n for n in names if not ctx.email_for(n))
            intent.missing("email", f"What is {missing.capitalize()}'s email address?")
            return
        if not names and _PRONOUN_SIGNER.search(clause) and (person := ctx.last_person()):
            signers.append({"name": person.get("name") or extract.name_from_email(person["email"]),
                            "email": person["email"]})
    if not files and not template:
        intent.missing("document", "Which document or template should I send? You can name an uploaded file "
                                   "(like contract.pdf) or a template (like the NDA template).")
        return
    if not signers:
        intent.missing("email", "Who should sign it? Please give me their name and email address.")
        return
    sequential = len(signers) > 1 and re.search(
        r"\bfirst\b|\bthen\b|\bafter(?:wards)?\b|\bin (?:that |this |the )?order\b|\bfollowed by\b|\bsequential", low)
    embedded = bool(re.search(r"\bembedded\b|\bin (?:the |our )?app\b|\bin person\b|\bsign (?:it )?here\b", low))
    key = "signers" if files else "recipients"
    for order, signer in enumerate(signers, start=1):
        if sequential and files:
            signer["routing_order"] = order
        if embedded and files:
            signer["embedded"] = True
    intent.args[key] = signers
    if not re.search(r"\b(?:no|without|don'?t|do not|skip (?:the )?)\s*(?:cc|copy|copying)\b", low):
        taken = {p["email"].lower() for p in signers + cc}
        cc += [dict(p) for p in ctx.default_cc if p["email"].lower() not in taken]
    if cc:
        intent.args["cc"] = cc
    if draft:
        intent.args["draft"] = True
    for pattern, name in ((r"subject(?: line)?(?: of| to| as| is)?:?\s*", "email_subject"),
                          (r"(?:message|note|body|saying)(?: of| is)?:?\s*", "email_message")):
        match = re.search(pattern + r"[\"“]([^\"”]+)[\"”]", clause, re.I)
        if match:
            intent.args[name] = match.group(1).strip()
    anchors = re.findall(r"(?:anchor(?: text)?|sign(?:ature)? (?:at|where it says|next to)|at the text|where it says)"
                         r"\s*[\"“]([^\"”]+)[\"”]", clause, re.I)
    if anchors and files:
        intent.args["anchor_tabs"] = [{"anchor_string": a, "tab_type": "sign_here"} for a in anchors]


def plain_name(template: str) -> str:
    """A template as named, without the words that only say it is the usual one ("our standard NDA" -> "NDA")."""
    words = [w for w in template.split() if w.lower() not in slots.FILLER_ADJECTIVES]
    return " ".join(words) or template


_BATCH_QUOTED = re.compile(r"\s*,?\s*(?:(?:as |in )?(?:a |the )?batch(?: name(?:d)?)?|call it|name it|(?<!template )(?:called|named|"
                           r"titled|labell?ed))(?: as| called| named| is)?:?\s*[\"“'‘]([^\"”'’]+)[\"”'’]", re.I)
_BATCH_BARE = re.compile(r"\s*,?\s*\b(?:batch (?:name(?:d)?|called|titled)|name the batch|call the batch)\s*:?\s*"
                         r"([\w][\w-]*(?:\s+[\w-]+){0,3}?)\s*(?=[,.;!?]|$|\s+(?:and|then|please|to|for)\b)", re.I)


def batch_name(clause: str) -> tuple[str | None, str]:
    """The name given to a bulk send's batch ('batch name partners', 'as batch "spring hires"', 'the services
    agreement called "Q3 renewals"'), and the clause without it."""
    found = _BATCH_QUOTED.search(clause) or _BATCH_BARE.search(clause)
    if not found:
        return None, clause
    return found.group(1).strip()[:100], clause[: found.start()] + clause[found.end():]


_VAGUE = {"something", "anything", "stuff", "a thing", "one", "some paperwork", "something else", "the thing"}
_VAGUE_OBJECT = re.compile(r"\b(?:something(?: else)?|anything|stuff|(?:the|a|an|my|our|this|that)\s+(?:agreement|"
                           r"contract|document|doc|file|paperwork|form|pdf|attachment|thing))\b(?:\s+(?:over|out|off|across)\b)?", re.I)
_ANSWER_LEAD = re.compile(r"^\s*(?:(?:it'?s|it is|use|send|i mean|i meant|make it|the one called|go with|let'?s do|"
                          r"oh|ok(?:ay)?|sorry|please)[,\s]+)*", re.I)


def with_object(clause: str, answer: str) -> str:
    """The send request with the person's answer to "which document or template?" in place of the vague words
    it had ("send something to ursula@x.com" + "the NDA" -> "send the NDA to ursula@x.com")."""
    what = _ANSWER_LEAD.sub("", answer.strip()).rstrip(".!") or answer.strip()
    vague = _VAGUE_OBJECT.search(clause)
    if vague:
        return clause[:vague.start()] + what + clause[vague.end():]
    verb = re.search(r"\bsend\b(?:\s+(?:out|off|over))?", clause, re.I)
    return clause[:verb.end()] + f" {what}" + clause[verb.end():] if verb else f"send {what} {clause}"


def bulk_send(intent: Intent, clause: str, ctx: Context) -> None:
    name, rest = batch_name(clause)
    if name:
        intent.args["batch_name"] = name
    template = phrasing.template_name(rest) or slots.specific_thing(re.sub(r"\bbulk\b", "", rest, flags=re.I))
    header = re.search(r"name\s*,\s*email[^\n]*\n", clause, re.I)
    if header:
        intent.args["csv"] = clause[header.start():].replace("```", "").strip()
    else:
        rows = [extract.person(clause, e) for e in extract.emails(clause)]
        if rows:
            intent.args["rows"] = rows
    if not template:
        intent.missing("template", "Which template should I bulk send?")
    elif not intent.args.get("rows") and not intent.args.get("csv"):
        intent.missing("email", "Who should receive it? List their emails, or paste CSV text with a name,email header.")
    else:
        intent.args["template"] = plain_name(re.sub(r"^(?:the|my|our)\s+|\s+template$", "", template, flags=re.I))
