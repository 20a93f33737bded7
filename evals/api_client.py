"""The public API as one scenario's user sees it: a bearer token for a throwaway profile, its LangGraph SDK
client, and the few `/v1` routes the harness uses (preferences, document upload, the audit trail)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from langgraph_sdk import get_client

from api.auth import issue_token
from docusign_agent.settings import Settings
from emulator.pdf import render_document
from evals.conversation import InfrastructureError
from evals.schema import SeedDocument


@dataclass
class ScenarioUser:
    email: str
    name: str
    headers: dict[str, str]
    url: str

    @classmethod
    def fresh(cls, settings: Settings, url: str, scenario_id: str) -> ScenarioUser:
        user_id = uuid.uuid4()
        email = f"eval-{user_id.hex[:12]}@evals.example.com"
        token = issue_token(settings, user_id, email, ttl_seconds=3 * 3600)
        return cls(email, f"Eval {scenario_id[:40]}", {"Authorization": f"Bearer {token}"}, url.rstrip("/"))

    def sdk(self, timeout: float) -> Any:
        return get_client(url=self.url, headers=self.headers, timeout=timeout)

    async def _call(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await http.request(method, f"{self.url}{path}", headers=self.headers, **kwargs)
        except httpx.TransportError as exc:
            raise InfrastructureError(f"{method} {path}: the server did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise InfrastructureError(f"{method} {path} answered {response.status_code}: {response.text[:200]}")
        if response.status_code >= 300:
            raise ValueError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    async def set_preferences(self, http: httpx.AsyncClient, preferences: dict[str, Any]) -> None:
        await self._call(http, "PUT", "/v1/preferences", json=preferences)

    async def upload(self, http: httpx.AsyncClient, document: SeedDocument) -> str:
        pdf = await asyncio.to_thread(render_document, document.title, list(document.paragraphs), [("Signer", "/sn1/")])
        answer = await self._call(http, "POST", "/v1/documents",
                                  files={"file": (document.filename, pdf, "application/pdf")})
        return str(answer["id"])

    async def audit(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        return list(await self._call(http, "GET", "/v1/audit", params={"limit": 1000}))
