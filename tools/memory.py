"""What the agent remembers for a user between conversations, in the LangGraph Store the run was given.

Three kinds of memory, each under its own namespace so a person (or `/store`) can see and edit them:
- contacts: people the user sent to, by email (`("memories", "contacts")`, key = the lower-cased email), learned
  from every envelope that was sent and from "remember that Bob is bob@x.com";
- the default CC (`("memories", "defaults")`, key `default_cc`): people to copy on every envelope;
- the preferred template (same namespace, key `preferred_template`), learned from template sends too.

`forget` removes any of them. None of this reaches DocuSign: remembering and forgetting need no approval.
The store is the user's own (RLS-scoped under our server), so these namespaces need no user id in them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.store.base import BaseStore
from pydantic import EmailStr, Field

from tools.base import ToolSpec
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import _Args
from tools.templates import resolve_template

CONTACTS = ("memories", "contacts")
DEFAULTS = ("memories", "defaults")
DEFAULT_CC = "default_cc"
PREFERRED_TEMPLATE = "preferred_template"
PROMPT_CONTACTS = 25  # how many remembered contacts the system prompt lists (most recently used first)
LEARNED_FROM = {"send_document": ("signers", "cc"), "send_template": ("recipients", "cc")}


class RememberArgs(_Args):
    kind: Literal["contact", "default_cc", "preferred_template"] = Field(
        description="contact: a person and their email; default_cc: someone to copy on every envelope; "
                    "preferred_template: the template to use when the user does not name one")
    name: str | None = Field(default=None, max_length=100, description="The person's full name")
    email: EmailStr | None = Field(default=None, description="The person's email (contact, default_cc)")
    template: str | None = Field(default=None, max_length=200, description="Template name or id "
                                 "(preferred_template)")


class ForgetArgs(_Args):
    kind: Literal["contact", "default_cc", "preferred_template", "everything"] = Field(
        description="What to forget; everything forgets all contacts and defaults")
    email: EmailStr | None = Field(default=None, description="The contact or CC to forget; omit to forget all "
                                   "contacts (kind=contact) or the whole default CC (kind=default_cc)")
    name: str | None = Field(default=None, max_length=100, description="The contact to forget, by name")


class ListMemoriesArgs(_Args):
    pass


@dataclass
class Memories:
    """What the system prompt says the agent remembers."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    default_cc: list[dict[str, Any]] = field(default_factory=list)
    preferred_template: dict[str, Any] | None = None

    def prompt_line(self) -> str | None:
        parts = []
        if self.contacts:
            parts.append("contacts: " + "; ".join(_person(c) for c in self.contacts))
        if self.default_cc:
            parts.append("default_cc: " + "; ".join(_person(c) for c in self.default_cc))
        if self.preferred_template:
            parts.append(f"preferred_template: {self.preferred_template.get('name')}")
        return ("Remembered for this user (use when they name someone without an email, copy default_cc on "
                "every envelope unless they say otherwise, use preferred_template when they name none): "
                + " | ".join(parts)) if parts else None


def _person(value: dict[str, Any]) -> str:
    return f"{value['name']} <{value['email']}>" if value.get("name") else str(value.get("email"))


def _store(ctx: ToolContext) -> BaseStore:
    if ctx.store is None:
        raise ToolFailure("no_memory", "I have no memory store in this conversation, so I cannot remember or "
                          "forget anything here.")
    return ctx.store


async def recall(store: BaseStore | None) -> Memories:
    if store is None:
        return Memories()
    contacts = await store.asearch(CONTACTS, limit=PROMPT_CONTACTS)
    defaults = {item.key: item.value for item in await store.asearch(DEFAULTS, limit=10)}
    return Memories(contacts=[c.value for c in contacts],
                    default_cc=list((defaults.get(DEFAULT_CC) or {}).get("recipients") or []),
                    preferred_template=defaults.get(PREFERRED_TEMPLATE))


async def learn(store: BaseStore | None, tool: str, args: dict[str, Any], payload: dict[str, Any]) -> None:
    """After an envelope went out: remember everyone on it, and the template it used."""
    if store is None or "error" in payload or tool not in LEARNED_FROM or args.get("draft"):
        return
    people = [p for key in LEARNED_FROM[tool] for p in args.get(key) or [] if isinstance(p, dict)]
    await _remember_people(store, people)
    if tool == "send_template" and args.get("template"):
        await store.aput(DEFAULTS, PREFERRED_TEMPLATE, {"name": args["template"], "learned": True})


async def _remember_people(store: BaseStore, people: Iterable[dict[str, Any]]) -> None:
    for person in people:
        email = str(person.get("email") or "").strip().lower()
        if email:
            await store.aput(CONTACTS, email, {"name": person.get("name"), "email": email})


async def remember(ctx: ToolContext, args: RememberArgs) -> dict[str, Any]:
    if args.kind in ("contact", "default_cc") and not args.email:
        raise ToolFailure("invalid_argument", f"email: a {args.kind.replace('_', ' ')} needs an email address",
                          field="email")
    if args.kind == "preferred_template" and not args.template:
        raise ToolFailure("invalid_argument", "template: name the template to prefer", field="template")
    store = _store(ctx)
    if args.kind == "contact":
        await _remember_people(store, [{"name": args.name, "email": args.email}])
        return ok(f"I'll remember {_person({'name': args.name, 'email': args.email})}.")
    if args.kind == "default_cc":
        current = await store.aget(DEFAULTS, DEFAULT_CC)
        recipients = [r for r in (current.value["recipients"] if current else [])
                      if r["email"] != str(args.email).lower()]
        recipients.append({"name": args.name, "email": str(args.email).lower()})
        await store.aput(DEFAULTS, DEFAULT_CC, {"recipients": recipients})
        return ok("From now on I'll copy " + "; ".join(_person(r) for r in recipients) + " on every envelope.")
    template = await resolve_template(await docusign(ctx), args.template)  # a name the account really has
    await store.aput(DEFAULTS, PREFERRED_TEMPLATE, {"name": template.name})
    return ok(f"I'll use the template “{template.name}” when you don't name one.")


async def forget(ctx: ToolContext, args: ForgetArgs) -> dict[str, Any]:
    store = _store(ctx)
    if args.kind == "everything":
        removed = 0
        for namespace in (CONTACTS, DEFAULTS):
            while items := await store.asearch(namespace, limit=100):
                for item in items:
                    await store.adelete(namespace, item.key)
                    removed += 1
        return ok(f"I forgot everything I remembered for you ({removed} item{'s' if removed != 1 else ''}).",
                  removed=removed)
    if args.kind == "preferred_template":
        await store.adelete(DEFAULTS, PREFERRED_TEMPLATE)
        return ok("I forgot your preferred template.")
    if args.kind == "default_cc":
        current = await store.aget(DEFAULTS, DEFAULT_CC)
        if args.email is None or current is None:
            await store.adelete(DEFAULTS, DEFAULT_CC)
            return ok("I won't copy anyone by default any more.")
        kept = [r for r in current.value["recipients"] if r["email"] != str(args.email).lower()]
        if kept:
            await store.aput(DEFAULTS, DEFAULT_CC, {"recipients": kept})
        else:
            await store.adelete(DEFAULTS, DEFAULT_CC)
        return ok(f"I won't copy {args.email} by default any more.")
    return await _forget_contacts(store, args)


async def _forget_contacts(store: BaseStore, args: ForgetArgs) -> dict[str, Any]:
    if args.email:
        if await store.aget(CONTACTS, str(args.email).lower()) is None:
            raise ToolFailure("not_remembered", f"I don't have {args.email} among your contacts.", field="email")
        await store.adelete(CONTACTS, str(args.email).lower())
        return ok(f"I forgot {args.email}.")
    matches = []
    offset = 0
    while page := await store.asearch(CONTACTS, limit=100, offset=offset):
        matches += [i for i in page if args.name is None or
                    (i.value.get("name") or "").strip().lower() == args.name.strip().lower()]
        offset += len(page)
    if args.name is not None and not matches:
        raise ToolFailure("not_remembered", f"I don't have anyone called {args.name} among your contacts.",
                          field="name")
    for item in matches:
        await store.adelete(CONTACTS, item.key)
    return ok(f"I forgot {len(matches)} contact{'s' if len(matches) != 1 else ''}.", removed=len(matches))


async def list_memories(ctx: ToolContext, args: ListMemoriesArgs) -> dict[str, Any]:
    memories = await recall(_store(ctx))
    line = memories.prompt_line()
    return ok(line.split(": ", 1)[1] if line else "I don't remember anything for you yet.",
              contacts=memories.contacts, default_cc=memories.default_cc,
              preferred_template=memories.preferred_template)


SPECS = [
    ToolSpec("remember", "Remember something for the user across conversations: a contact and their email, "
             "someone to CC on every envelope, or a preferred template.", RememberArgs, remember,
             effect="write", idempotent=True),
    ToolSpec("forget", "Forget a remembered contact, the default CC, the preferred template, or everything.",
             ForgetArgs, forget,
             effect="destructive", idempotent=True),
    ToolSpec("list_memories", "Show what is remembered for the user (contacts, default CC, preferred template).",
             ListMemoriesArgs, list_memories,
             effect="read"),
]
