"""The DocuSign client layer: OAuth and token lifecycle, the SDK-backed async client, retries, caching.

Tools use `get_clients().for_user(user_id)`; the app installs the registry with `set_clients` at start-up.
"""

from docusign_client.client import REQUEST_ID_FIELD, DocuSignClient
from docusign_client.errors import (
    DocuSignError,
    NotConnected,
    RateLimited,
    ReconnectRequired,
    TransientDocuSignError,
)
from docusign_client.clients import DocuSignClients, get_clients, set_clients

__all__ = [
    "REQUEST_ID_FIELD",
    "DocuSignClient",
    "DocuSignClients",
    "DocuSignError",
    "NotConnected",
    "RateLimited",
    "ReconnectRequired",
    "TransientDocuSignError",
    "get_clients",
    "set_clients",
]
