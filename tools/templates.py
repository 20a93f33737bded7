"""Template tools: what templates the account has, and one template's roles and fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz

from docusign_client.client import DocuSignClient
from tools.base import ToolSpec
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import ListTemplatesArgs, TemplateRef


TYPO_SIMILARITY = 85  # rapidfuzz ratio: "mutal nda" is 95 from "Mutual NDA", "offer letter, make that" 69


def template_candidates(ref: str, templates: Sequence[tuple[str, str]]) -> list[str]:
    """The ids of the (id, name) templates a reference may mean: by id or exact name, else a partial match
    ("NDA" finds "Mutual NDA"), else the names a typo is close to. One template found is the answer; several
    make the reference ambiguous. The eval matchers apply this same rule."""
    needle = ref.strip().lower()
    exact = [i for i, name in templates if i == ref.strip() or name.lower() == needle]
    if exact:
        return exact[:1]
    partial = [i for i, name in templates if needle in name.lower()
               or all(word in name.lower() for word in needle.replace("template", "").split())]
    if partial:
        return partial
    stripped = needle.replace("template", "").strip()
    return [i for i, name in templates if fuzz.ratio(stripped, name.lower()) >= TYPO_SIMILARITY]


async def resolve_template(client: DocuSignClient, ref: str) -> Any:
    """By id or name, as `template_candidates` reads it (every send still shows the template's real name on
    its approval card before anything goes out)."""
    templates = (await client.list_templates()).value.envelope_templates or []
    names = {t.template_id: t.name or "" for t in templates}
    found = template_candidates(ref, list(names.items()))
    if len(found) == 1:
        return (await client.get_template(found[0])).value
    if found:
        raise ToolFailure("ambiguous_template", f"template: {ref!r} matches several templates "
                          f"({', '.join(names[i] for i in found)}); say which one.", field="template")
    listed = ", ".join(f"“{name}”" for name in names.values()) or "none"
    raise ToolFailure("unknown_template", f"template: there is no template called {ref!r}. Templates: {listed}.",
                      field="template")


def _roles(template: Any) -> list[dict[str, Any]]:
    rows = []
    recipients = template.recipients
    for kind, attr in (("signer", "signers"), ("carbon_copy", "carbon_copies")):
        for r in (getattr(recipients, attr, None) if recipients else None) or []:
            tabs = r.tabs.to_dict() if getattr(r, "tabs", None) else {}
            fields = sorted({(t.get("tab_label") or name.removesuffix("_tabs")) for name, items in tabs.items()
                             if isinstance(items, list) for t in items})
            rows.append({"roleName": r.role_name, "type": kind, "routingOrder": int(r.routing_order or 1),
                         "fields": fields})
    return rows


async def list_templates(ctx: ToolContext, args: ListTemplatesArgs) -> dict[str, Any]:
    client = await docusign(ctx)
    listing = (await client.list_templates(search_text=args.search_text)).value
    rows = [{"templateId": t.template_id, "name": t.name, "description": t.description}
            for t in listing.envelope_templates or []]
    if not rows:
        return ok("You have no templates" + (f" matching {args.search_text!r}." if args.search_text else "."), templates=[])
    return ok(f"You have {len(rows)} template{'s' if len(rows) != 1 else ''}: "
              + ", ".join(f"“{r['name']}”" for r in rows) + ".", templates=rows)


async def get_template(ctx: ToolContext, args: TemplateRef) -> dict[str, Any]:
    client = await docusign(ctx)
    template = await resolve_template(client, args.template)
    roles = _roles(template)
    role_text = ", ".join(r["roleName"] for r in roles if r["type"] == "signer") or "no signer roles"
    docs = [d.name for d in template.documents or []]
    return ok(f"Template “{template.name}” has roles {role_text}" + (f" and documents {', '.join(docs)}." if docs else "."),
              template={"templateId": template.template_id, "name": template.name,
                        "description": template.description, "emailSubject": template.email_subject,
                        "roles": roles, "documents": docs})


SPECS = [
    ToolSpec("list_templates", "List the account's templates, optionally filtered by name.", ListTemplatesArgs,
             list_templates, docusign_call="GET templates",
             effect="read"),
    ToolSpec("get_template", "Show one template (by name or id): its roles, fields and documents.", TemplateRef,
             get_template, docusign_call="GET templates/{id}",
             effect="read"),
]
