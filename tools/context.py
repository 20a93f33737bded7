"""What a tool call acts with: who it acts for, which conversation, and the dependencies of the run.

Built per call by the agent's tool node from the run's context (`agent/context.py`), so a tool never looks its
database, settings, DocuSign client or model up anywhere: two apps in one process, each with its own database,
never see each other's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langgraph.store.base import BaseStore

from db.session import Database
from docusign_agent.settings import Settings
from docusign_client.client import DocuSignClient
from docusign_client.clients import DocuSignClients


class MissingUser(Exception):
    """The run carries no user the call could act for."""


@dataclass(frozen=True)
class ToolContext:
    user_id: uuid.UUID
    thread_id: str | None
    run_id: str | None
    tool_call_id: str | None
    settings: Settings
    database: Database
    docusign: DocuSignClients
    analysis_model: BaseChatModel  # answers document-analysis prompts (no streaming, no tools)
    store: BaseStore | None = None  # the run's long-term memory (the user's own under our server)
    assistant_id: str | None = None  # the assistant the run is of (what a scheduled task runs again)

    async def client(self) -> DocuSignClient:
        """This user's DocuSign client (raises NotConnected / ReconnectRequired when they must connect first)."""
        return await self.docusign.for_user(self.user_id)
