"""The caller's documents and envelopes as MCP resources.

`docusign://documents/{id}` is a stored document (an upload, or a download the agent kept): the file itself,
plus its extracted text when there is any, since a model reads text. `docusign://envelopes/{envelope_id}` is
the envelope as the webhook mirror knows it (status, recipients, timestamps), as JSON. Every read runs in the
caller's RLS session, so another user's id reads exactly like an id that does not exist.
"""

from __future__ import annotations

import base64
import re
import uuid

import mcp_types as types
import orjson
from mcp.shared.exceptions import MCPError

from api.mcp.context import McpCaller
from api.mcp.tools import DOCUMENT_URI, ENVELOPE_URI
from db import documents, mirror
from db.models import Document

LIST_LIMIT = 50
DOCUMENT = re.compile(r"^docusign://documents/(?P<id>[^/]+)$")
ENVELOPE = re.compile(r"^docusign://envelopes/(?P<id>[^/]+)$")

TEMPLATES = [
    types.ResourceTemplate(name="document", title="A stored document", uri_template=DOCUMENT_URI,
                           description="An uploaded or downloaded document: the file, and its text when extracted."),
    types.ResourceTemplate(name="envelope", title="An envelope", uri_template=ENVELOPE_URI,
                           description="An envelope's status, recipients and timestamps, as JSON.",
                           mime_type="application/json"),
]


async def list_resources(caller: McpCaller) -> list[types.Resource]:
    async with caller.database.user_session(caller.user_id) as session:
        docs = await documents.list_for_user(session, limit=LIST_LIMIT)
        envelopes, _ = await mirror.list_envelopes(session, limit=LIST_LIMIT)
    out = [types.Resource(uri=DOCUMENT_URI.format(document_id=d.id), name=d.filename, mime_type=d.content_type,
                          size=d.size_bytes, description=f"Document, {d.page_count or '?'} page(s)")
           for d in docs]
    out += [types.Resource(uri=ENVELOPE_URI.format(envelope_id=e.envelope_id),
                           name=e.email_subject or e.envelope_id, mime_type="application/json",
                           description=f"Envelope {e.envelope_id}, {e.status}") for e in envelopes]
    return out


def _missing(uri: str) -> MCPError:
    return MCPError(types.INVALID_PARAMS, f"Resource not found: {uri}. List resources to see the documents and "
                    "envelopes you have.", data={"uri": uri})


async def read_resource(caller: McpCaller, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
    if match := DOCUMENT.match(uri):
        try:
            document_id = uuid.UUID(match["id"])
        except ValueError:
            raise _missing(uri) from None
        async with caller.database.user_session(caller.user_id) as session:
            row = await session.get(Document, document_id)
        if row is None or row.content is None:
            raise _missing(uri)
        contents: list[types.TextResourceContents | types.BlobResourceContents] = [types.BlobResourceContents(
            uri=uri, mime_type=row.content_type, blob=base64.b64encode(row.content).decode())]
        if row.text_content:
            contents.append(types.TextResourceContents(uri=uri, mime_type="text/plain", text=row.text_content))
        return contents
    if match := ENVELOPE.match(uri):
        async with caller.database.user_session(caller.user_id) as session:
            envelope = await mirror.get_envelope(session, match["id"])
        if envelope is None:
            raise _missing(uri)
        return [types.TextResourceContents(uri=uri, mime_type="application/json",
                                           text=orjson.dumps(envelope.to_json(), default=str).decode())]
    raise _missing(uri)
