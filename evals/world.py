"""The world a scenario runs in, on the DocuSign side: a fresh emulator user and account, the envelopes it starts
with, another user's account when the scenario needs one, and afterwards what is really there.

The harness acts here as DocuSign's own console and as the recipients would: it registers an integration of its
own, reaches the eSignature REST API with a JWT grant for the scenario's emulator user (the same user the server
provisions from the profile's email), and reads the emulator's request log. Nothing here goes through the agent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from evals.schema import SeedEnvelope

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class WorldError(Exception):
    """The emulator did not set up or report a scenario's world (an infrastructure failure: retried)."""


@dataclass
class Account:
    email: str
    user_id: str
    account_id: str
    token: str
    templates: dict[str, str] = field(default_factory=dict)  # id -> name
    template_roles: dict[str, list[str]] = field(default_factory=dict)  # id -> role names, in order
    seeded: dict[str, str] = field(default_factory=dict)  # seed key -> envelope id


class Harness:
    """The harness's integration with the emulator (one per eval run) and the calls it makes there."""

    def __init__(self, http: httpx.AsyncClient, emulator_url: str) -> None:
        self.http = http
        self.root = emulator_url.rstrip("/")
        self.integration_key = f"evals-{uuid.uuid4().hex[:12]}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        self._public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self._registered = asyncio.Lock()
        self._done = False

    async def _control(self, method: str, path: str, body: dict[str, Any] | None = None,
                       params: dict[str, Any] | None = None) -> Any:
        response = await self.http.request(method, f"{self.root}{path}", json=body, params=params)
        if response.status_code >= 300:
            raise WorldError(f"emulator {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    async def _register(self) -> None:
        async with self._registered:
            if not self._done:
                await self._control("POST", "/integrations", {
                    "integration_key": self.integration_key, "public_key_pem": self._public,
                    "redirect_uris": ["http://127.0.0.1:9/evals"], "auto_consent": True})
                self._done = True

    async def account(self, email: str, name: str) -> Account:
        """The emulator user for `email` (created now, or the one the server already provisioned) with a token."""
        await self._register()
        user = await self._control("POST", "/users", {"email": email, "name": name})
        now = int(time.time())
        assertion = jwt.encode({"iss": self.integration_key, "sub": user["user_id"], "aud": self.root.split("://", 1)[1],
                                "iat": now, "exp": now + 3600, "scope": "signature impersonation"},
                               self._private, algorithm="RS256")
        answer = await self.http.post(f"{self.root}/oauth/token", data={"grant_type": JWT_GRANT, "assertion": assertion})
        if answer.status_code != 200:
            raise WorldError(f"emulator JWT grant answered {answer.status_code}: {answer.text[:300]}")
        account = Account(email, user["user_id"], user["account_id"], answer.json()["access_token"])
        listed = await self.rest(account, "GET", "/templates")
        for template in listed.get("envelopeTemplates", []):
            account.templates[template["templateId"]] = template["name"]
            roles = await self.rest(account, "GET", f"/templates/{template['templateId']}/recipients")
            account.template_roles[template["templateId"]] = [
                s["roleName"] for s in sorted(roles.get("signers", []), key=lambda s: int(s.get("routingOrder") or 1))]
        return account

    async def rest(self, account: Account, method: str, path: str, body: dict[str, Any] | None = None,
                   params: dict[str, Any] | None = None) -> Any:
        url = f"{self.root}/restapi/v2.1/accounts/{account.account_id}{path}"
        response = await self.http.request(method, url, json=body, params=params,
                                           headers={"Authorization": f"Bearer {account.token}"})
        if response.status_code >= 300:
            raise WorldError(f"emulator {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}

    async def seed(self, account: Account, envelope: SeedEnvelope) -> str:
        """Create the envelope from its template and bring it to the scenario's status, as DocuSign and its
        recipients would."""
        template_id = next((t for t, n in account.templates.items() if n.casefold() == envelope.template.casefold()),
                           None)
        if template_id is None:
            raise WorldError(f"no template named {envelope.template!r} in the emulator account")
        roles = account.template_roles[template_id]
        body: dict[str, Any] = {
            "templateId": template_id, "status": "created" if envelope.status == "created" else "sent",
            "templateRoles": [{"roleName": roles[i % len(roles)], "name": p.name, "email": str(p.email)}
                              for i, p in enumerate(envelope.recipients)],
        }
        if envelope.subject:
            body["emailSubject"] = envelope.subject
        created = await self.rest(account, "POST", "/envelopes", body)
        envelope_id = str(created["envelopeId"])
        if envelope.status in ("completed", "declined"):
            recipients = await self.rest(account, "GET", f"/envelopes/{envelope_id}/recipients")
            signers = [s["recipientId"] for s in recipients.get("signers", [])]
            if envelope.status == "completed":
                for rid in signers:
                    await self._control("POST", f"/envelopes/{envelope_id}/sign", {"recipient_id": rid})
            else:
                await self._control("POST", f"/envelopes/{envelope_id}/decline",
                                    {"recipient_id": signers[0], "reason": "The terms are not acceptable."})
        elif envelope.status == "voided":
            await self.rest(account, "PUT", f"/envelopes/{envelope_id}",
                            {"status": "voided", "voidedReason": "Replaced by a newer version."})
        account.seeded[envelope.key] = envelope_id
        return envelope_id

    async def envelopes(self, account: Account) -> list[dict[str, Any]]:
        """Every envelope in the account now, newest first, each with its recipients' emails and statuses."""
        listed = await self.rest(account, "GET", "/envelopes", params={"from_date": "2000-01-01T00:00:00Z"})
        found = []
        for env in listed.get("envelopes", []):
            recipients = await self.rest(account, "GET", f"/envelopes/{env['envelopeId']}/recipients")
            people = [{"email": r["email"], "name": r.get("name"), "status": r.get("status")}
                      for kind in ("signers", "carbonCopies") for r in recipients.get(kind, [])]
            found.append({"envelope_id": env["envelopeId"], "status": env["status"],
                          "subject": env.get("emailSubject") or "", "created": env.get("createdDateTime") or "",
                          "recipients": people})
        return sorted(found, key=lambda e: e["created"], reverse=True)

    async def bulk_batches(self, account: Account) -> int:
        listed = await self.rest(account, "GET", "/bulk_send_batch")
        return int(listed.get("totalSetSize") or len(listed.get("bulkBatchSummaries") or []))

    async def requests_mark(self) -> int:
        return int((await self._control("GET", "/requests", params={"after": 2**62}))["last_seq"])

    async def requests(self, account: Account, after: int, before: int | None = None) -> list[dict[str, Any]]:
        """The eSignature requests made on the account after mark `after` (and up to `before`)."""
        answer = await self._control("GET", "/requests", params={"account_id": account.account_id, "after": after})
        return [r for r in answer["requests"] if before is None or r["seq"] <= before]
