"""Connect configuration: make DocuSign (or the emulator) deliver envelope events to `/webhooks/docusign`.

`configure_connect` creates or updates the account's custom Connect configuration through the client layer
(`docusign_client`, the SDK's ConnectApi), identically for real DocuSign and the emulator. `configure_emulator_connect`
also installs our HMAC keys in the emulator account, which real DocuSign only lets an administrator do in its
web console (Settings > Connect > Connect Keys); `docusign-agent connect setup` prints that step.
"""

from __future__ import annotations

from typing import Any

import httpx

from api.webhooks.receiver import PATH

CONFIGURATION_NAME = "docusign-agent"
EVENTS = ["envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided",
          "envelope-corrected", "envelope-resent", "recipient-sent", "recipient-delivered", "recipient-completed",
          "recipient-declined", "recipient-autoresponded", "recipient-resent", "recipient-reassign",
          "recipient-delegate"]


def webhook_url(base_url: str) -> str:
    return base_url.rstrip("/") + PATH


def configuration(url: str, name: str = CONFIGURATION_NAME, connect_id: str | None = None) -> Any:
    from docusign_esign import ConnectCustomConfiguration, ConnectEventData

    return ConnectCustomConfiguration(
        connect_id=connect_id, name=name, url_to_publish_to=url, configuration_type="custom", all_users="true",
        allow_envelope_publish="true", enable_log="true", include_hmac="true", requires_acknowledgement="true",
        include_envelope_void_reason="true", include_time_zone_information="true", delivery_mode="SIM",
        events=EVENTS,
        event_data=ConnectEventData(version="restv2.1", format="json", include_data=["recipients", "custom_fields"]),
    )


async def configure_connect(client: Any, url: str, *, name: str = CONFIGURATION_NAME) -> dict[str, Any]:
    """Create the configuration, or update ours (same name or same URL) if the account already has it.

    `client` is a `docusign_client.client.DocuSignClient`. Returns {"action", "connect_id", "url"}.
    """
    existing = await client.list_connect_configs()
    ours = next((c for c in (existing.configurations or [])
                 if c.name == name or (c.url_to_publish_to or "").rstrip("/") == url.rstrip("/")), None)
    if ours is not None:
        result = await client.update_connect_config(configuration(url, name, ours.connect_id))
        action = "updated"
    else:
        result = await client.create_connect_config(configuration(url, name))
        action = "created"
    return {"action": action, "connect_id": str(getattr(result, "connect_id", None) or
                                                 (ours.connect_id if ours else "")), "url": url}


async def configure_emulator_connect(client: Any, *, emulator_url: str, url: str, hmac_keys: list[str],
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
