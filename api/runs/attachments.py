"""Files inside messages become stored documents before a run starts, whichever client sent them.

Clients attach files as content blocks of the message itself: agent-chat-ui and LangChain send
`{"type": "file"|"image", "mimeType"|"mime_type", "data"|"base64", "metadata": {"filename"}}`, OpenAI's format is
`{"type": "file", "file": {"filename", "file_data": "data:<type>;base64,..."}}` or
`{"type": "image_url", "image_url": {"url": "data:..."}}`, and our own page sends a reference to a document it
uploaded already (`{"type": "file", "file_id": "<document id>"}`). Each becomes a row in `documents` (the same
bytes with the same name are stored once) and the block is replaced by a text block naming the file, so the
model, the tools (which find documents by name or id) and the checkpoints never carry base64. What was attached
is kept on the message as `additional_kwargs.attachments` (with the `marker` text that stands for it) for the
page to show.

A block that cannot become a document (bad base64, a kind we do not take, a URL we would have to fetch, another
user's document) refuses the whole request with a 4xx naming the block, and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from db import documents as documents_repo
from db.models import Document

FILE_TYPES = {"file", "image", "image_url", "input_file", "input_image"}
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+/-]+)?(?:;[\w=-]+)*;base64,(?P<data>.*)$", re.S)


def marker(filename: str) -> str:
    """The text that stands in the message for an attached file (without ids: the tools find it by name)."""
    clean = filename.replace("“", "'").replace("”", "'").replace("\n", " ")
    return f"[attached file “{clean}”]"


@dataclass(frozen=True)
class InputFiles:
    """Stores the files of a run's input, in the transaction that creates the run (so a refused run, or a
    refused file, stores nothing).

    A run's body may be as large as a file (`MAX_UPLOAD_BYTES`, in base64) so that files can ride in messages,
    but what remains once they are stored is held to `MAX_BODY_BYTES` like any other request."""

    file_limit: int
    body_limit: int

    async def store(self, session: AsyncSession, user_id: uuid.UUID, run_input: Any) -> Any:
        stored = await store_message_files(session, user_id, run_input, self.file_limit)
        if len(orjson.dumps(stored, default=str)) > self.body_limit:
            message = (f"input: the messages are larger than the limit of {self.body_limit} bytes (files inside "
                       "them may be larger: they are stored as documents)")
            raise ApiError(413, "payload_too_large", message, field="input")
        return stored


async def store_message_files(session: AsyncSession, user_id: uuid.UUID, run_input: Any, limit: int) -> Any:
    """`run_input` with every file block of its messages stored and replaced; unchanged when there is none."""
    if not isinstance(run_input, dict) or "messages" not in run_input:
        return run_input
    messages = run_input["messages"]
    listed = messages if isinstance(messages, list) else [messages]
    if not any(_file_blocks(m) for m in listed):
        return run_input
    rewritten = []
    for index, message in enumerate(listed):
        if not _file_blocks(message):
            rewritten.append(message)
            continue
        content, attachments = [], []
        for position, block in enumerate(message["content"]):
            if not _is_file(block):
                content.append(block)
                continue
            where = f"input.messages[{index}].content[{position}]"
            row = await _document_for(session, user_id, block, where, limit)
            text = marker(row.filename)
            attachments.append({"document_id": str(row.id), "filename": row.filename,
                                "content_type": row.content_type, "size_bytes": row.size_bytes,
                                "page_count": row.page_count, "marker": text})
            content.append({"type": "text", "text": text})
        extra = dict(message.get("additional_kwargs") or {})
        extra["attachments"] = [*extra.get("attachments", []), *attachments]
        rewritten.append({**message, "content": content, "additional_kwargs": extra})
    return {**run_input, "messages": rewritten if isinstance(messages, list) else rewritten[0]}


def _is_file(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") in FILE_TYPES


def _file_blocks(message: Any) -> bool:
    return isinstance(message, dict) and isinstance(message.get("content"), list) and any(
        _is_file(b) for b in message["content"])


async def _document_for(session: Any, user_id: uuid.UUID, block: dict[str, Any], where: str, limit: int) -> Document:
    reference = _reference(block)
    if reference is not None:
        try:
            row = await session.get(Document, uuid.UUID(str(reference)))
        except ValueError:
            row = None
        if row is None:
            raise ApiError(422, "unknown_document", f"{where}: there is no document {reference!r} of yours; upload "
                           "it to /v1/documents first or attach the file's content", field=where)
        return row  # type: ignore[no-any-return]
    content, declared, filename = _inline(block, where)
    if len(content) > limit:
        raise ApiError(413, "payload_too_large", f"{where}: the file is larger than {limit} bytes", field=where)
    name = (filename or _default_name(declared)).strip()[:255] or "attachment"
    existing = await documents_repo.find_same(session, name, content)
    if existing is not None:
        return existing
    try:
        return await documents_repo.store(session, user_id, name, content)
    except documents_repo.UnsupportedDocument as exc:
        raise ApiError(415, "unsupported_media_type", f"{where}: {exc}", field=where) from None
    except documents_repo.DocumentError as exc:
        raise ApiError(422, "invalid_document", f"{where}: {exc}", field=where) from None


def _reference(block: dict[str, Any]) -> str | None:
    nested = block.get("file") if isinstance(block.get("file"), dict) else {}
    if block.get("source_type") == "id" and block.get("id"):
        return str(block["id"])
    return block.get("file_id") or nested.get("file_id") or None


def _inline(block: dict[str, Any], where: str) -> tuple[bytes, str | None, str | None]:
    """(bytes, declared type, file name) of a base64 block in any of the formats clients send."""
    nested = block.get("file") if isinstance(block.get("file"), dict) else {}
    image_url = block.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    metadata = block.get("metadata") if isinstance(block.get("metadata"), dict) else {}
    extras = block.get("extras") if isinstance(block.get("extras"), dict) else {}
    filename = (block.get("filename") or metadata.get("filename") or metadata.get("name") or nested.get("filename")
                or extras.get("filename"))
    declared = block.get("mime_type") or block.get("mimeType")
    data = block.get("base64") or block.get("data") or nested.get("file_data") or block.get("file_data")
    if data is None and isinstance(url, str):
        data = url
    if data is None and isinstance(block.get("url"), str):
        data = block["url"]
    if not isinstance(data, str) or not data.strip():
        raise ApiError(422, "invalid_attachment", f"{where}: the file block has no base64 data", field=where)
    if data.startswith(("http://", "https://")) or block.get("source_type") == "url":
        raise ApiError(422, "invalid_attachment", f"{where}: files are not fetched from URLs; attach the file's "
                       "content as base64", field=where)
    found = _DATA_URL.match(data)
    if found:
        declared, data = declared or found.group("type"), found.group("data")
    try:
        content = base64.b64decode(re.sub(r"\s+", "", data), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_attachment", f"{where}: the file's data is not valid base64", field=where) from None
    return content, declared, str(filename) if filename else None


def _default_name(declared: str | None) -> str:
    extension = documents_repo.EXTENSIONS.get(declared or "", "bin")
    return f"attachment.{extension}"
