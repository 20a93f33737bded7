"""Shared helpers for the offline model tests: real LangChain tools from tools/schemas.py, message builders.

(Named test_offline_model_* so it lives beside the tests it serves; it defines no tests itself.)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from tools import memory, schedules, schemas

TODAY = dt.date(2025, 3, 12)  # a Wednesday
GUID = "1b2c3d4e-0000-4000-8000-00000000abcd"
GUID2 = "2c3d4e5f-0000-4000-8000-00000000bcde"

CATALOG: dict[str, type] = {
    "list_envelopes": schemas.ListEnvelopesArgs,
    "get_envelope_status": schemas.EnvelopeRef,
    "list_templates": schemas.ListTemplatesArgs,
    "get_template": schemas.TemplateRef,
    "list_envelope_documents": schemas.EnvelopeRef,
    "get_audit_events": schemas.EnvelopeRef,
    "list_my_documents": schemas.ListMyDocumentsArgs,
    "send_document": schemas.SendDocumentArgs,
    "send_template": schemas.SendTemplateArgs,
    "send_draft": schemas.EnvelopeRef,
    "create_signing_link": schemas.SigningLinkArgs,
    "remind_recipients": schemas.RemindArgs,
    "correct_recipient": schemas.CorrectRecipientArgs,
    "void_envelope": schemas.VoidArgs,
    "download_document": schemas.DownloadArgs,
    "bulk_send": schemas.BulkSendArgs,
    "get_bulk_send_status": schemas.BulkStatusArgs,
    "analyze_document": schemas.AnalyzeArgs,
    "ask_document": schemas.AskDocumentArgs,
    "remember": memory.RememberArgs,
    "forget": memory.ForgetArgs,
    "list_memories": memory.ListMemoriesArgs,
    "schedule_task": schedules.ScheduleTaskArgs,
    "list_scheduled_tasks": schedules.ListScheduledTasksArgs,
    "cancel_scheduled_task": schedules.CancelScheduledTaskArgs,
}


def _record(name: str):
    def run(**kwargs: Any) -> str:
        return json.dumps({"summary": f"{name} ran."})

    return run


def langchain_tools(names: list[str] | None = None) -> list[StructuredTool]:
    """Real LangChain tools built from the argument schemas (the bodies are not called in these tests)."""
    return [
        StructuredTool.from_function(func=_record(name), name=name, description=f"The {name} tool.",
                                     args_schema=model)
        for name, model in CATALOG.items()
        if names is None or name in names
    ]


def openai_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The `tools` field ChatOpenAI sends for those tools."""
    return [convert_to_openai_tool(tool) for tool in langchain_tools(names)]


def validate(name: str, arguments: dict[str, Any]) -> Any:
    """Raise if the arguments do not validate against the tool's Pydantic schema."""
    return CATALOG[name].model_validate(arguments)


def system(first_line: str = "Preferences: tone=neutral; verbosity=normal") -> dict[str, Any]:
    return {"role": "system", "content": f"{first_line}\nYou are a DocuSign assistant. Today is {TODAY.isoformat()}."}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant_calls(*calls: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for call_id, name, args in calls
        ],
    }


def tool_result(call_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)}
