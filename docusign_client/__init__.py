"""The DocuSign client layer: OAuth and token lifecycle, the SDK-backed async client, retries, caching.

An app builds one `DocuSignClients` and hands it to what needs DocuSign (tools get theirs in their
`ToolContext`): `await clients.for_user(user_id)` is that user's `DocuSignClient`.
"""

from docusign_client.client import DocuSignClient
from docusign_client.clients import DocuSignClients
from docusign_client.errors import (
    DocuSignError,
    NotConnected,
    RateLimited,
    ReconnectRequired,
    TransientDocuSignError,
)
from docusign_client.sdk import DocuSignResult

__all__ = [
    "DocuSignClient",
    "DocuSignClients",
    "DocuSignError",
    "DocuSignResult",
    "NotConnected",
    "RateLimited",
    "ReconnectRequired",
    "TransientDocuSignError",
]
