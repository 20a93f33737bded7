"""When a request should happen on its own later: "every Monday at 9 remind everyone who hasn't signed", "next
Friday send the NDA to x@y.com", "stop the weekly reminder".

`kind` tells a scheduling request from the rest ('schedule', 'list_tasks', 'cancel_task'); `read` turns one
into the schedule_task arguments: the instruction (the request without its time words), a cron schedule, the
time zone and an end. A one-off time ("next Friday", "tomorrow at 10") is a cron on that day that ends the day
after, so it runs once. `choose_task` picks the scheduled task a cancel request describes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from . import extract

_DAYS = {"monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2, "wednesday": 3, "wed": 3, "thursday": 4,
         "thu": 4, "thur": 4, "thurs": 4, "friday": 5, "fri": 5, "saturday": 6, "sat": 6, "sunday": 0, "sun": 0}
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
_ZONES = {  # what people call a time zone -> its IANA name
    "utc": "UTC", "gmt": "Europe/London", "uk time": "Europe/London", "london": "Europe/London",
    "bst": "Europe/London", "cet": "Europe/Berlin", "cest": "Europe/Berlin", "berlin": "Europe/Berlin",
    "paris": "Europe/Paris", "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York", "new york": "America/New_York", "ct": "America/Chicago", "cst": "America/Chicago",
    "central": "America/Chicago", "mt": "America/Denver", "mountain": "America/Denver", "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pacific": "America/Los_Angeles",
    "tokyo": "Asia/Tokyo", "jst": "Asia/Tokyo", "sydney": "Australia/Sydney", "ist": "Asia/Kolkata",
}
_ZONE = r"(?:" + "|".join(sorted((re.escape(z) for z in _ZONES), key=len, reverse=True)) + r")"
_PARTS = {"morning": (9, 0), "noon": (12, 0), "midday": (12, 0), "lunchtime": (12, 0), "afternoon": (14, 0),
          "evening": (18, 0), "night": (20, 0), "midnight": (0, 0), "end of day": (17, 0), "eod": (17, 0)}

_CLOCK = re.compile(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?!\w)|\b(?:at\s+)(\d{1,2})(?::(\d{2}))?\b"
                    r"(?!\s*(?:days?|weeks?|%|[/.-]\d))|\b(\d{1,2}):(\d{2})\b", re.I)
_PART = re.compile(r"\b(?:(?:in|every|each)\s+the\s+|at\s+|every\s+|each\s+)?(morning|noon|midday|lunchtime|afternoon|"
                   r"evening|night|midnight|end of (?:the )?day|eod)s?\b", re.I)
_IN_ZONE = re.compile(rf"\s*\b(?:(?:in|on)\s+)?({_ZONE})(?:\s+time)?\b(?![@\w])", re.I)
_EVERY_DAYS = re.compile(rf"\b(?:every|each)\s+({_DAY}s?(?:\s*(?:,|and|&|or)\s*{_DAY}s?)*)\b|\b(?:on\s+)?({_DAY}s(?:\s*(?:,|and|&|or)\s*{_DAY}s?)*)\b",
                         re.I)
_WEEKDAYS = re.compile(r"\b(?:every|each|on)\s+(?:week ?days?|working days?|business days?)\b|\bweekdays\b|\b(?:every|each) "
                       r"(?:workday|weekday)\b", re.I)
_WEEKENDS = re.compile(r"\b(?:every|each|on)\s+weekends?\b|\bweekends\b", re.I)
_DAILY = re.compile(r"\b(?:every|each)\s+(?:single\s+)?(?:day|morning|afternoon|evening|night)\b|\bdaily\b|\bnightly\b", re.I)
_WEEKLY = re.compile(r"\b(?:every|each|once a|once per)\s+week\b|\bweekly\b", re.I)
_MONTHLY = re.compile(r"\b(?:every|each|once a|once per)\s+month\b|\bmonthly\b", re.I)
_HOURLY = re.compile(r"\b(?:every|each)\s+(?:(\d{1,2})\s+)?hours?\b|\bhourly\b", re.I)
_MONTH_DAY = re.compile(r"\bon the (\d{1,2})(?:st|nd|rd|th)?(?: day)?(?: of (?:each|every|the) month)?\b|\b(?:(?:every|each|on the) )?"
                        r"(first|last) day of (?:each|every|the) month\b", re.I)
_UNTIL = re.compile(r"\b(?:until|till|through|thru|ending(?: on)?)\s+(.+?)(?=[,;.!?]|$|\s+(?:and|then)\b)", re.I)
_FOR_SPAN = re.compile(r"\bfor\s+(?:the\s+)?(?:next\s+)?(\d{1,2}|two|three|four|five|six)\s+(days?|weeks?|months?)\b", re.I)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_ONCE_DAY = re.compile(rf"\b(?<!by )(?<!before )(?<!until )(?<!till )(?<!due )(?:(next|this|this coming|coming)\s+({_DAY})|on\s+({_DAY}))\b"
                       rf"|\b(?<!by )(?<!before )(tomorrow)\b|\bin\s+(\d{{1,2}}|a|one|two|three|four|five|six)\s+(days?|weeks?)\b"
                       rf"|\b(?<!by )(?<!before )(?<!until )(next week)\b",
                       re.I)
_ONCE_DATE = re.compile(rf"\bon\s+({extract.DATE_RE.pattern[2:-2]})\b", re.I)
_REMINDER_TASK = re.compile(r"\b(?:set up|schedule|create|add|make|put in|arrange)\s+(?:a|an|the)?\s*(?:recurring\s+|regular\s+"
                            r"|automatic\s+)?(?:daily\s+|weekly\s+|monthly\s+)?reminders?\s*(?:job\s+|task\s+)?"
                            r"(?:for|to|of|on)?\s*", re.I)
_SCHEDULE_LEAD = re.compile(r"^\s*(?:please\s+|(?:can|could|would) you\s+)*(?:schedule|set (?:it |this |things )?up|arrange|plan)"
                            r"\s+(?:it\s+)?(?:so\s+)?(?:that\s+)?(?:you\s+|to\s+)?", re.I)
_POLITE = re.compile(r"^\s*(?:please\s+|kindly\s+|(?:can|could|would|will) you(?: please)?\s+)+|\bstarting (?:from )?(?:today|now|"
                     r"tomorrow|next week|on \w+)\b,?", re.I)
_STOP_DOING = re.compile(r"^\s*(?:please\s+)?(?:stop|quit|no longer|don'?t (?:keep )?)\s*(?:remind|nudg|send|chas|ping)\w*\b", re.I)

_LIST = re.compile(r"\b(?:what|which|show|list|any|see|view|tell me)\b.*\b(?:scheduled|schedules?|recurring|automat\w+|"
                   r"repeating|(?:tasks?|jobs?)\b.*\b(?:set up|running|scheduled))\b|\b(?:scheduled|recurring) (?:tasks?|jobs?)\b"
                   r"(?!.*\b(?:stop|cancel|delete|remove)\b)", re.I)
_CANCEL = re.compile(r"\b(?:stop|cancel|delete|remove|turn off|switch off|disable|kill|end|unschedule|drop|get rid of|"
                     r"no more)\b.*(?:\b(?:scheduled|schedules?|recurring|weekly|daily|monthly|hourly|jobs?|tasks?|automations?)\b"
                     rf"|\b(?:the|my|those|these|that|all|any)\s+(?:\w+\s+)?(?:reminders|nudges)\b|\b{_DAY}s\b)", re.I)
_PAST = re.compile(r"\b(?:was|were|sent|signed|received|declined|voided|happened|since|from|ago|last|did)\s+(?:\w+\s+){0,2}$",
                   re.I)


@dataclass
class Timing:
    schedule: str
    timezone: str | None
    end_time: str | None
    instruction: str


def kind(clause: str) -> str | None:
    """'schedule', 'list_tasks', 'cancel_task', or None when the clause is not about scheduling."""
    if extract.guids(clause) and not re.search(r"\b(?:scheduled|task|job)\b", clause, re.I):
        return "schedule" if recurs(clause) or _once(clause) else None
    if _CANCEL.search(clause) or _STOP_DOING.search(clause) and recurs(clause) or re.search(r"\bunschedule\b", clause, re.I):
        return "cancel_task"
    if _LIST.search(clause) and not recurs(clause):
        return "list_tasks"
    if recurs(clause) or _once(clause):
        return "schedule"
    return None


def recurs(clause: str) -> bool:
    return any(p.search(clause) for p in (_EVERY_DAYS, _WEEKDAYS, _WEEKENDS, _DAILY, _WEEKLY, _MONTHLY, _HOURLY)) or bool(
        _MONTH_DAY.search(clause) and re.search(r"\b(?:each|every)\b", clause, re.I))


def _once(clause: str) -> bool:
    """A day still to come, said of the request itself ("next Friday send ..."), not of something past ("the one
    signed on Friday")."""
    found = _ONCE_DAY.search(clause) or _ONCE_DATE.search(clause)
    return bool(found) and not _PAST.search(clause[: found.start()])


def read(clause: str, today: dt.date) -> Timing:
    """The schedule_task arguments a scheduling clause gives (the instruction may come back empty)."""
    hour, minute = _time_of_day(clause)
    zone = _IN_ZONE.search(_without_emails(clause))
    timezone = _ZONES[zone.group(1).lower()] if zone else None
    end = _end(clause, today)
    if recurs(clause):
        schedule = _recurring(clause, hour, minute)
    else:
        day = _once_day(clause, today)
        schedule = f"{minute} {hour} {day.day} {day.month} *"
        end = end or (day + dt.timedelta(days=1)).isoformat() + "T23:59:00"
    return Timing(schedule, timezone, end, instruction(clause))


def instruction(clause: str) -> str:
    """The request with its time words taken out: what to do each time, as the person would ask it."""
    text = _REMINDER_TASK.sub("remind ", clause)
    text = _SCHEDULE_LEAD.sub("", _POLITE.sub("", text))
    for pattern in (_UNTIL, _FOR_SPAN, _ONCE_DATE, _ONCE_DAY, _MONTH_DAY, _EVERY_DAYS, _WEEKDAYS, _WEEKENDS, _DAILY,
                    _WEEKLY, _MONTHLY, _HOURLY, _CLOCK, _PART):
        text = pattern.sub(" ", text)
    text = _outside_emails(text, lambda piece: _IN_ZONE.sub(" ", piece))
    text = re.sub(r"\b(?:at|on|from now on|starting (?:today|now)|going forward|please)\s*(?=[,.;!?]|$)", " ", text, flags=re.I)
    text = re.sub(r"\s+([,.;!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip(" ,;:-")
    text = re.sub(r"^(?:(?:and|then|,|you|to)\s+)+|\s+(?:and|then)$", "", text, flags=re.I).strip(" ,;:-")
    return _POLITE.sub("", text).strip(" ,;:-")


def _recurring(clause: str, hour: int, minute: int) -> str:
    hourly = _HOURLY.search(clause)
    if hourly:
        return f"0 */{int(hourly.group(1))} * * *" if hourly.group(1) else "0 * * * *"
    if _WEEKDAYS.search(clause):
        return f"{minute} {hour} * * 1-5"
    if _WEEKENDS.search(clause):
        return f"{minute} {hour} * * 6,0"
    days = [_DAYS[d.lower().rstrip("s") if d.lower().rstrip("s") in _DAYS else d.lower()]
            for m in _EVERY_DAYS.finditer(clause) for d in re.findall(_DAY + "s?", m.group(0), re.I)]
    if days:
        return f"{minute} {hour} * * {','.join(str(d) for d in dict.fromkeys(days))}"
    if _MONTHLY.search(clause) or _MONTH_DAY.search(clause):
        found = _MONTH_DAY.search(clause)
        day = "1" if not found or found.group(2) == "first" else "L" if found.group(2) == "last" else found.group(1)
        return f"{minute} {hour} {day} * *"
    if _WEEKLY.search(clause):
        return f"{minute} {hour} * * 1"  # "weekly": Mondays, the start of the working week
    return f"{minute} {hour} * * *"


def _time_of_day(clause: str) -> tuple[int, int]:
    clock = _CLOCK.search(_without_emails(clause))
    if clock:
        hour_text, minute_text, half = (clock.group(1), clock.group(2), clock.group(3)) if clock.group(1) else (
            (clock.group(4), clock.group(5), None) if clock.group(4) else (clock.group(6), clock.group(7), None))
        hour, minute = int(hour_text) % 24, int(minute_text or 0) % 60
        if half and half.lower().startswith("p") and hour < 12:
            hour += 12
        elif half and half.lower().startswith("a") and hour == 12:
            hour = 0
        elif not half and 1 <= hour <= 6 and not minute_text:
            hour += 12  # "at 5": five in the afternoon, in working hours
        return hour, minute
    part = _PART.search(clause)
    if part:
        key = re.sub(r"\s+the\s+", " ", part.group(1).lower())
        return _PARTS.get(key, _PARTS.get("end of day" if "end" in key else key, (9, 0)))
    return 9, 0


def _once_day(clause: str, today: dt.date) -> dt.date:
    dated = _ONCE_DATE.search(clause)
    if dated:
        day = extract.parse_date(dated.group(1), today)
        if day:
            return day if day >= today else day.replace(year=day.year + 1)
    found = _ONCE_DAY.search(clause)
    if found and found.group(5):
        amount = 1 if found.group(5).lower() in {"a", "one"} else _NUMBERS.get(found.group(5).lower()) or int(found.group(5))
        return today + dt.timedelta(days=amount * (7 if found.group(6).lower().startswith("week") else 1))
    if found and found.group(4):
        return today + dt.timedelta(days=1)
    if found and found.group(7):
        return today + dt.timedelta(days=7 - today.weekday())  # "next week": its Monday
    name = (found.group(2) or found.group(3)) if found else None
    if name:
        ahead = (_DAYS[name.lower()] - (today.isoweekday() % 7)) % 7 or 7
        return today + dt.timedelta(days=ahead)
    return today + dt.timedelta(days=1)


def _end(clause: str, today: dt.date) -> str | None:
    span = _FOR_SPAN.search(clause)
    if span:
        amount = _NUMBERS.get(span.group(1).lower()) or int(span.group(1))
        days = amount * {"d": 1, "w": 7, "m": 30}[span.group(2)[0].lower()]
        return (today + dt.timedelta(days=days)).isoformat() + "T23:59:00"
    until = _UNTIL.search(clause)
    if until:
        words = until.group(1).strip().lower()
        day = extract.parse_date(words, today)
        if day is None and re.match(r"(?:the )?end of (?:the|this) month", words):
            day = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        elif day is None and (named := re.match(rf"(?:next |this )?({_DAY})\b", words)):
            day = _once_day(f"on {named.group(1)}", today)
        if day is not None:
            if day < today:
                day = day.replace(year=day.year + 1)
            return day.isoformat() + "T23:59:00"
    return None


def _without_emails(text: str) -> str:
    return extract.EMAIL_RE.sub(" ", text)


def _outside_emails(text: str, change) -> str:
    out, last = [], 0
    for match in extract.EMAIL_RE.finditer(text):
        out += [change(text[last:match.start()]), match.group(0)]
        last = match.end()
    return "".join(out) + change(text[last:])


# --- which scheduled task a cancel request means ---------------------------------------------------------------
_FILLER = {"the", "a", "an", "my", "our", "that", "this", "job", "task", "tasks", "jobs", "scheduled", "schedule",
           "recurring", "you", "set", "up", "for", "me", "stop", "cancel", "delete", "remove", "turn", "off", "please",
           "one", "it", "to", "of", "all", "every", "each", "made", "created", "automation", "i", "asked", "had"}
_CADENCE = {"daily": lambda cron: cron.split()[2:] == ["*", "*", "*"],
            "weekly": lambda cron: cron.split()[4] != "*", "monthly": lambda cron: cron.split()[2] != "*"}


def choose_task(tasks: list[Any], clause: str) -> tuple[list[str] | None, str | None]:
    """The ids of the task(s) `clause` describes, or why not: none exists, none matches, or which one?"""
    tasks = [t for t in tasks if isinstance(t, dict) and t.get("task_id")]
    if not tasks:
        return [], "You have no scheduled tasks, so there was nothing to cancel."
    if re.search(r"\ball\b|\bevery (?:scheduled |recurring )?(?:task|job)\b|\beverything\b", clause, re.I):
        return [str(t["task_id"]) for t in tasks], None
    wanted = {w[:6] for w in re.findall(r"[a-z]+", clause.lower()) if w not in _FILLER and w not in _CADENCE}
    scored = []
    for task in tasks:
        words = {w[:6] for w in re.findall(r"[a-z]+", str(task.get("instruction") or "").lower())}
        score = len(wanted & words) + sum(2 for c, fits in _CADENCE.items()
                                          if re.search(rf"\b{c}\b", clause, re.I) and fits(str(task.get("schedule") or "* * * * *")))
        scored.append((score, task))
    best = max(score for score, _ in scored)
    found = [t for score, t in scored if score == best]
    if len(found) == 1 and (best or len(tasks) == 1):
        return [str(found[0]["task_id"])], None
    listed = "\n".join(f"- “{t.get('instruction')}” ({t.get('schedule')}, next {t.get('next_run')}), id {t['task_id']}"
                       for t in found[:10])
    return None, f"You have {len(found)} scheduled tasks that could be meant:\n{listed}\nWhich one should I cancel?"
