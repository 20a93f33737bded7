"""Connect: make DocuSign (or the emulator) deliver envelope events to `/webhooks/docusign`, in one shape.

Two ways in, one payload: the account's custom Connect configuration (`configure_connect`, through the SDK's
ConnectApi, identically for real DocuSign and the emulator) and the per-envelope `eventNotification` every
envelope sent against real DocuSign carries (`event_notification`). Both ask for JSON SIM bodies of REST v2.1
with recipients and custom fields, which is what the receiver and the worker read.

`configure_emulator_connect` also installs our HMAC keys in the emulator account, which real DocuSign only lets
an administrator do in its web console (Settings > Connect > Connect Keys); `docusign-agent connect setup`
prints that step.
"""

from __future__ import annotations

from typing import Any

import httpx
from docusign_esign import ConnectCustomConfiguration, ConnectEventData, EventNotification

from docusign_client.client import DocuSignClient

WEBHOOK_PATH = "/webhooks/docusign"
CONFIGURATION_NAME = "docusign-agent"
EVENTS = ["envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided",
          "envelope-corrected", "envelope-resent", "recipient-sent", "recipient-delivered", "recipient-completed",
          "recipient-declined", "recipient-autoresponded", "recipient-resent", "recipient-reassign",
          "recipient-delegate"]


# The envelope-level subscription (eventNotification) names statuses rather than event names.
ENVELOPE_EVENT_STATUSES = ("sent", "delivered", "completed", "declined", "voided")
RECIPIENT_EVENT_STATUSES = ("Sent", "Delivered", "Completed", "Declined")


def webhook_url(base_url: str) -> str:
    return base_url.rstrip("/") + WEBHOOK_PATH


def event_data() -> ConnectEventData:
    """The body every delivery carries: JSON SIM, REST v2.1, with recipients and the `dsa_request_id` field."""
    return ConnectEventData(version="restv2.1", format="json", include_data=["recipients", "custom_fields"])


def event_notification(url: str) -> EventNotification:
    """The per-envelope subscription: reports to `url` even when the account's own Connect is off."""
    return EventNotification(
        url=url, include_hmac="true", require_acknowledgment="true", logging_enabled="true", delivery_mode="SIM",
        event_data=event_data(),
        envelope_events=[{"envelopeEventStatusCode": s} for s in ENVELOPE_EVENT_STATUSES],
        recipient_events=[{"recipientEventStatusCode": s} for s in RECIPIENT_EVENT_STATUSES],
    )


def configuration(url: str, name: str = CONFIGURATION_NAME, connect_id: str | None = None) -> ConnectCustomConfiguration:
    return ConnectCustomConfiguration(
        connect_id=connect_id, name=name, url_to_publish_to=url, configuration_type="custom", all_users="true",
        allow_envelope_publish="true", enable_log="true", include_hmac="true", requires_acknowledgement="true",
        include_envelope_void_reason="true", include_time_zone_information="true", delivery_mode="SIM",
        events=EVENTS,
        event_data=event_data(),
    )


async def configure_connect(client: DocuSignClient, url: str, *, name: str = CONFIGURATION_NAME) -> dict[str, Any]:
    """Create the configuration, or update ours (same name or same URL) if the account already has it.

    Returns {"action", "connect_id", "url"}.
    """
    existing = (await client.list_connect_configs()).value
    ours = next((c for c in (existing.configurations or [])
                 if c.name == name or (c.url_to_publish_to or "").rstrip("/") == url.rstrip("/")), None)
    if ours is not None:
        result = (await client.update_connect_config(configuration(url, name, ours.connect_id))).value
        action = "updated"
    else:
        result = (await client.create_connect_config(configuration(url, name))).value
        action = "created"
    return {"action": action, "connect_id": str(getattr(result, "connect_id", None) or
                                                 (ours.connect_id if ours else "")), "url": url}


async def configure_emulator_connect(client: DocuSignClient, *, emulator_url: str, url: str, hmac_keys: list[str],
                                     http: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Emulator mode: sign deliveries with our keys (control API) and point Connect at `url` (REST API).

    `client` is the DocuSign client of the user whose emulator account should report (its `account_id` names the
    account); `emulator_url` is the emulator's root, e.g. `http://127.0.0.1:8123/_emulator`.
    """
    owns = http is None
    http = http or httpx.AsyncClient(timeout=30)
    try:
        r = await http.post(f"{emulator_url.rstrip('/')}/connect/hmac_keys",
                            json={"account_id": client.account_id, "keys": list(hmac_keys)})
        r.raise_for_status()
    finally:
        if owns:
            await http.aclose()
    result = await configure_connect(client, url)
    return {**result, "hmac_keys": len(hmac_keys)}
