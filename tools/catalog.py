"""The tool table of docs/TOOLS.md, generated from the specs so the document cannot drift from the code.

    uv run python -m tools.catalog > docs/TOOLS.md
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.registry import ALL

APPROVAL = {
    "never": "no",
    "always": "**yes**",
    "unless_draft": "**yes**, unless `draft`",
    "reminder": "**yes**, unless the user turned reminder confirmation off",
}

HEADER = """# Agent tools

Every tool takes the Pydantic argument schema of the same name in `tools/schemas.py` (the model sees it as JSON
schema) and returns a JSON object as its tool message. Successful results carry `"summary"`, one plain sentence a
person can read, plus the data (`envelope`, `envelopes`, `templates`, `documents`, `url`, `analysis`...).
Failures carry `"error"` (a DocuSign errorCode such as `ENVELOPE_CANNOT_VOID_INVALID_STATE`, or our own code:
`invalid_argument`, `unknown_template`, `unknown_document`, `rejected`, `not_approved`...) and `"message"`, a
sentence the model can repeat or act on; `"field"` names the argument at fault.

Arguments are validated before anything else: a bad email or an empty list is answered with the field named,
and DocuSign is not called. A template, document or recipient that does not exist is found out by reading
(the account's templates, the user's documents, the envelope's recipients) and answered the same way, before
anything is created or changed. Every call, approved or not, is written to `audit_log` before DocuSign is
called and completed afterwards (with the outcome, error code, the trace token of the DocuSign call that did the
work, and the duration); a rejected approval is recorded as `rejected`.

Calls marked for approval stop the run with the Agent Inbox interrupt (docs/API.md, "Approvals: interrupt and
resume") until a person approves, edits or rejects them. Which calls need approval depends only on the tool and its arguments, never on text from
a document or a tool result.

Over MCP (`/mcp`, docs/API.md) every tool carries annotations taken from its spec (`ToolSpec.hints`): the
"MCP hints" column below (`read-only`, `destructive`, `idempotent`; `open world` when it reaches DocuSign).

`get_envelope_status` answers from the webhook mirror when Connect is feeding it (an event for that envelope
within the last 15 minutes) or when the envelope is completed, declined or voided, and says how fresh the
answer is; otherwise it asks DocuSign.

"""


def _fields(schema: type[BaseModel]) -> list[str]:
    out = []
    for name, field in schema.model_fields.items():
        text = f"`{name}`" + ("" if field.is_required() else "?")
        nested: Any = next((a for a in getattr(field.annotation, "__args__", ()) or () if hasattr(a, "model_fields")), None)
        if nested is not None:
            text += " [" + ", ".join(_fields(nested)) + "]"
        out.append(text)
    return out


def _hints(hints: dict[str, bool]) -> str:
    words = [word for key, word in (("read_only", "read-only"), ("destructive", "**destructive**"),
                                    ("idempotent", "idempotent"), ("open_world", "open world")) if hints[key]]
    return ", ".join(words) or "none"


def render() -> str:
    lines = [HEADER, "| tool | arguments (`?` optional) | approval | MCP hints | DocuSign call |",
             "| --- | --- | --- | --- | --- |"]
    for spec in ALL:
        lines.append(f"| `{spec.name}` | {', '.join(_fields(spec.args_schema))} | {APPROVAL[spec.approval]} | "
                     f"{_hints(spec.hints())} | {spec.docusign_call or 'none'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
