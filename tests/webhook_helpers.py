"""Helpers for the webhook suites and the benchmark: signing, Connect JSON SIM bodies built like DocuSign's
(and the emulator's), envelope lifecycles, real HTTP servers on free ports, and the emulator driven over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from docusign_agent.envelope_rules import REQUEST_ID_FIELD
from tests.servers import await_until as wait_for  # noqa: F401 - re-exported for the webhook tests
from tests.servers import free_port, serve  # noqa: F401 - re-exported for the webhook tests


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signed_headers(body: bytes, *keys: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    for i, key in enumerate(keys, start=1):
        headers[f"X-DocuSign-Signature-{i}"] = sign(body, key)
    return headers


def ds_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


# --- JSON SIM bodies from simulated envelope lifecycles ------------------------------------------------------


@dataclass
class SimRecipient:
    recipient_id: str
    name: str
    email: str
    routing_order: int = 1
    kind: str = "signer"
    status: str = "created"
    sent_at: str | None = None
    delivered_at: str | None = None
    signed_at: str | None = None
    declined_at: str | None = None
    declined_reason: str | None = None

    def json(self) -> dict[str, Any]:
        out = {"recipientId": self.recipient_id, "recipientIdGuid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.email)),
               "recipientType": "signer" if self.kind == "signer" else "carboncopy", "name": self.name,
               "email": self.email, "routingOrder": str(self.routing_order), "status": self.status,
               "sentDateTime": self.sent_at, "deliveredDateTime": self.delivered_at,
               "signedDateTime": self.signed_at if self.kind == "signer" else None,
               "declinedDateTime": self.declined_at, "declinedReason": self.declined_reason}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class SimEnvelope:
    """An envelope whose every change produces the Connect event DocuSign (and the emulator) would send."""

    account_id: str
    user_id: str
    recipients: list[SimRecipient]
    subject: str = "Please sign"
    envelope_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str | None = None
    status: str = "created"
    status_changed_at: str | None = None
    times: dict[str, str] = field(default_factory=dict)
    voided_reason: str | None = None
    events: list[bytes] = field(default_factory=list)
    clock: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))

    def _now(self) -> str:
        self.clock += dt.timedelta(milliseconds=random.randint(5, 900))
        return ds_time(self.clock)

    def _set(self, status: str) -> str:
        now = self._now()
        self.status = status
        self.status_changed_at = now
        return now

    def summary(self) -> dict[str, Any]:
        fields = [{"fieldId": "1", "name": REQUEST_ID_FIELD, "value": self.request_id, "show": "false",
                   "required": "false"}] if self.request_id else []
        out = {
            "envelopeId": self.envelope_id, "status": self.status, "emailSubject": self.subject,
            "statusChangedDateTime": self.status_changed_at, "sentDateTime": self.times.get("sent"),
            "deliveredDateTime": self.times.get("delivered"), "completedDateTime": self.times.get("completed"),
            "declinedDateTime": self.times.get("declined"), "voidedDateTime": self.times.get("voided"),
            "voidedReason": self.voided_reason,
            "sender": {"userName": "Sender", "userId": self.user_id, "accountId": self.account_id,
                       "email": "sender@example.com"},
            "recipients": {"signers": [r.json() for r in self.recipients if r.kind == "signer"],
                           "carbonCopies": [r.json() for r in self.recipients if r.kind != "signer"],
                           "recipientCount": str(len(self.recipients))},
            "customFields": {"textCustomFields": fields, "listCustomFields": []},
        }
        return {k: v for k, v in out.items() if v is not None}

    def publish(self, event: str, recipient: SimRecipient | None = None) -> bytes:
        body = json.dumps({
            "event": event, "uri": f"/restapi/v2.1/accounts/{self.account_id}/envelopes/{self.envelope_id}",
            "retryCount": 0, "configurationId": 1000, "apiVersion": "v2.1",
            "generatedDateTime": self._now(),
            "data": {"accountId": self.account_id, "userId": self.user_id,
                     "recipientId": recipient.recipient_id if recipient else "", "envelopeId": self.envelope_id,
                     "envelopeSummary": copy.deepcopy(self.summary())},
        }, separators=(",", ":")).encode()
        self.events.append(body)
        return body

    # --- the state machine (the emulator's rules) ---
    def _pending_order(self) -> int | None:
        orders = [r.routing_order for r in self.recipients if r.kind == "signer" and r.status != "completed"]
        return min(orders) if orders else None

    def _route(self) -> None:
        current = self._pending_order()
        for r in sorted(self.recipients, key=lambda x: x.routing_order):
            if r.status == "created" and (current is None or r.routing_order <= current):
                r.status, r.sent_at = "sent", self._now()
                self.publish("recipient-sent", r)
        if current is None:
            now = self._set("completed")
            self.times["completed"] = now
            for r in self.recipients:
                if r.kind != "signer":
                    r.status, r.delivered_at = "completed", r.delivered_at or now
            self.publish("envelope-completed")

    def send(self) -> None:
        self.times["sent"] = self._set("sent")
        self.publish("envelope-sent")
        self._route()

    def _deliver(self, r: SimRecipient) -> None:
        if r.status != "sent":
            return
        r.status, r.delivered_at = "delivered", self._now()
        self.publish("recipient-delivered", r)
        if self.status == "sent":
            self.times["delivered"] = self._set("delivered")
            self.publish("envelope-delivered")

    def turn(self) -> list[SimRecipient]:
        current = self._pending_order()
        return [r for r in self.recipients if r.kind == "signer" and r.status in ("sent", "delivered")
                and current is not None and r.routing_order <= current]

    def sign(self, r: SimRecipient) -> None:
        self._deliver(r)
        r.status, r.signed_at = "completed", self._now()
        self.publish("recipient-completed", r)
        self._route()

    def decline(self, r: SimRecipient, reason: str = "Not today") -> None:
        self._deliver(r)
        now = self._set("declined")
        r.status, r.declined_at, r.declined_reason = "declined", now, reason
        self.times["declined"] = now
        self.publish("recipient-declined", r)
        self.publish("envelope-declined")

    def void(self, reason: str = "Sent by mistake") -> None:
        self.times["voided"] = self._set("voided")
        self.voided_reason = reason
        self.publish("envelope-voided")

    def truth(self) -> dict[str, Any]:
        return {"status": self.status, "recipients": {r.recipient_id: r.status for r in self.recipients}}


def lifecycle(account_id: str, user_id: str, rng: random.Random, *, request_id: str | None = None) -> SimEnvelope:
    """A random but realistic lifecycle: completed, declined, voided, or still waiting part-way."""
    signers = rng.randint(1, 3)
    sequential = rng.random() < 0.5
    recipients = [SimRecipient(str(i + 1), f"Signer {i + 1}", f"s{i + 1}-{uuid.uuid4().hex[:6]}@example.com",
                               routing_order=i + 1 if sequential else 1) for i in range(signers)]
    if rng.random() < 0.4:
        recipients.append(SimRecipient(str(signers + 1), "Copy", f"cc-{uuid.uuid4().hex[:6]}@example.com",
                                       routing_order=signers + 1, kind="carbonCopy"))
    env = SimEnvelope(account_id, user_id, recipients, subject=f"Contract {uuid.uuid4().hex[:6]}",
                      request_id=request_id)
    env.send()
    fate = rng.random()
    while env.status in ("sent", "delivered"):
        turn = env.turn()
        if not turn:
            break
        r = rng.choice(turn)
        if fate < 0.15:
            env.decline(r)
        elif fate < 0.25:
            env.void()
        elif fate < 0.35 and rng.random() < 0.5:
            break  # left waiting part-way
        else:
            env.sign(r)
    return env


def make_profile(owner_url: str, *, docusign_user_id: str | None = None, account_id: str | None = None,
                 email: str | None = None) -> uuid.UUID:
    user = uuid.uuid4()
    with psycopg.connect(owner_url) as conn:
        conn.execute("INSERT INTO profiles (id, email, docusign_user_id, docusign_account_id) VALUES (%s, %s, %s, %s)",
                     (user, email or f"{user}@example.com", docusign_user_id, account_id))
    return user


# --- the emulator, driven over HTTP as a DocuSign client would ----------------------------------------------


@dataclass
class EmulatorAccount:
    base: str  # http://host:port/_emulator
    user_id: str
    account_id: str
    token: str
    client: httpx.AsyncClient

    @property
    def rest(self) -> str:
        return f"{self.base}/restapi/v2.1/accounts/{self.account_id}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def emulator_account(client: httpx.AsyncClient, base: str, email: str) -> EmulatorAccount:
    """A user with an account and a JWT-grant access token, exactly as the client layer would obtain one."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    user = (await client.post(f"{base}/users", json={"email": email, "name": "Webhook Tester"})).json()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ik = f"ik-{uuid.uuid4().hex[:8]}"
    r = await client.post(f"{base}/integrations", json={"integration_key": ik, "public_key_pem": pem,
                                                         "auto_consent": True})
    assert r.status_code == 201, r.text
    now = int(time.time())
    assertion = jwt.encode({"iss": ik, "sub": user["user_id"], "aud": base, "iat": now, "exp": now + 600,
                            "scope": "signature impersonation"}, key, algorithm="RS256")
    r = await client.post(f"{base}/oauth/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                      "assertion": assertion})
    assert r.status_code == 200, r.text
    return EmulatorAccount(base, user["user_id"], user["account_id"], r.json()["access_token"], client)


# --- a TCP proxy in front of Postgres, to take the database away from a running server ---------------------


class PgProxy:
    """Listens on 127.0.0.1:port and forwards to Postgres (TCP or the embedded server's unix socket).

    `stop()` closes the listener and cuts every open connection: to the server behind it, the database is gone.
    """

    def __init__(self, url: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        self.unix_path = None
        if socket_dir:
            import glob

            sockets = sorted(glob.glob(f"{socket_dir}/.s.PGSQL.*[0-9]"))
            self.unix_path = sockets[0] if sockets else f"{socket_dir}/.s.PGSQL.{parts.port or 5432}"
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.url = url
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def proxied(self, url: str | None = None) -> str:
        """The URL with host and port replaced by the proxy's (and the socket directory dropped)."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url or self.url)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}", query=""))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            if self.unix_path:
                server_r, server_w = await asyncio.open_unix_connection(self.unix_path)
            else:
                server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        if self._server is None:  # stopped while this connection was being opened: it must not survive
            client_w.transport.abort()
            server_w.transport.abort()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        self._writers -= {client_w, server_w}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()


async def sse_frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse a text/event-stream response into {"event", "data", "id"} frames (comments are skipped)."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if frame:
                yield frame
            frame = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            frame["data"] = frame["data"] + "\n" + value if "data" in frame else value
        else:
            frame[name] = value


async def send_nda(client: Any, database: Any, user: uuid.UUID, subject: str) -> tuple[str, str]:
    """Send the emulator's "Mutual NDA" template as the send tools send (a request id, then the mirror's record);
    returns (envelope id, request id). `client` is the user's `DocuSignClient`, `database` the app's."""
    from docusign_esign import EnvelopeDefinition, TemplateRole

    from db import mirror

    nda = next(t for t in (await client.list_templates()).value.envelope_templates if t.name == "Mutual NDA")
    request_id = str(uuid.uuid4())
    summary = (await client.create_envelope(EnvelopeDefinition(
        template_id=nda.template_id, status="sent", email_subject=subject,
        template_roles=[TemplateRole(role_name="Party A", name="Ann", email="ann@example.com"),
                        TemplateRole(role_name="Party B", name="Bob", email="bob@example.com")]),
        request_id=request_id)).value
    async with database.user_session(user) as session:
        await mirror.record_sent_envelope(session, user, envelope_id=summary.envelope_id,
                                          account_id=client.account_id, status=summary.status,
                                          email_subject=subject, request_id=request_id)
    return str(summary.envelope_id), request_id


async def sign_all(http: httpx.AsyncClient, emulator: str, envelope_id: str) -> None:
    """Every signer signs, in routing order, through the emulator's control API."""
    state = (await http.get(f"{emulator}/envelopes/{envelope_id}")).json()
    for r in sorted((r for r in state["recipients"] if r["kind"] == "signer"), key=lambda r: r["routing_order"]):
        signed = await http.post(f"{emulator}/envelopes/{envelope_id}/sign", json={"recipient_id": r["recipient_id"]})
        assert signed.status_code == 200, signed.text


async def listen_for_envelopes(http: httpx.AsyncClient, base: str, token: str, frames: list[dict[str, Any]],
                               ready: asyncio.Event, until: str = "completed") -> None:
    """Follow `/v1/events` as the chat page does: set `ready` once subscribed, collect `envelope` frames into
    `frames`, and return once one says `until`."""
    async with http.stream("GET", f"{base}/v1/events", headers={"Authorization": f"Bearer {token}"}) as response:
        async for frame in sse_frames(response):
            if frame.get("event") == "ready":
                ready.set()
            elif frame.get("event") == "envelope":
                frames.append(json.loads(frame["data"]))
                if frames[-1]["status"] == until:
                    return


def mirror_state(owner_url: str, envelope_ids: list[str]) -> dict[str, dict[str, Any]]:
    with psycopg.connect(owner_url) as conn:
        envs = conn.execute("SELECT id, envelope_id, status FROM envelopes WHERE envelope_id = ANY(%s)",
                            (envelope_ids,)).fetchall()
        out = {eid: {"status": status, "recipients": {}} for _, eid, status in envs}
        by_pk = {pk: eid for pk, eid, _ in envs}
        for pk, rid, status in conn.execute(
                "SELECT envelope_pk, recipient_id, status FROM recipients WHERE envelope_pk = ANY(%s)",
                (list(by_pk),)).fetchall():
            out[by_pk[pk]]["recipients"][rid] = status
    return out
