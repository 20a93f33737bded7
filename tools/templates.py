"""Template tools: what templates the account has, and one template's roles and fields."""

from __future__ import annotations

from typing import Any

from docusign_client.client import DocuSignClient
from tools.base import ToolSpec
from tools.common import docusign
from tools.context import ToolContext
from tools.results import ToolFailure, ok
from tools.schemas import ListTemplatesArgs, TemplateRef


async def resolve_template(client: DocuSignClient, ref: str) -> Any:
    """By id, else by name: exact, then a unique partial match ("NDA" finds "Mutual NDA")."""
    listing = (await client.list_templates()).value
    templates = listing.envelope_templates or []
    needle = ref.strip().lower()
    for t in templates:
        if t.template_id == ref or (t.name or "").lower() == needle:
            return (await client.get_template(t.template_id)).value
    partial = [t for t in templates if needle in (t.name or "").lower()
               or all(word in (t.name or "").lower() for word in needle.replace("template", "").split())]
    if len(partial) == 1:
        return (await client.get_template(partial[0].template_id)).value
    names = ", ".join(f"“{t.name}”" for t in templates) or "none"
    if partial:
        raise ToolFailure("ambiguous_template", f"template: {ref!r} matches several templates "
                          f"({', '.join(t.name for t in partial)}); say which one.", field="template")
    raise ToolFailure("unknown_template", f"template: there is no template called {ref!r}. Templates: {names}.",
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
