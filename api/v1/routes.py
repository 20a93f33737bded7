"""`/v1` REST beside the agent: document uploads, the user's preferences, and API keys for programs.

Uploads are PDFs only: stored once with their SHA-256, page count and text (extracted by pypdf in a thread, so
the event loop never parses a PDF). A Word file is refused with a message saying what to do, not converted:
doing that faithfully needs LibreOffice or a network service, neither of which is part of this server.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from api.auth import CurrentPrincipal
from api.deps import AppSettings, Db
from api.errors import ApiError
from api.params import parse_uuid
from api.responses import json_response
from db import documents as documents_repo
from db import profiles
from db.models import ApiKey, Document, UserPreferences

router = APIRouter(prefix="/v1", tags=["v1"])

DOCX_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/msword"}



# --- documents ---------------------------------------------------------------------------------------------


def _document_json(row: Document, *, text: bool = False) -> dict[str, Any]:
    body = {
        "id": str(row.id), "filename": row.filename, "content_type": row.content_type, "size_bytes": row.size_bytes,
        "sha256": row.content_hash, "page_count": row.page_count, "status": row.processing_status,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if text:
        body["text"] = row.text_content
    return body


@router.post("/documents", status_code=201, summary="Upload a PDF (multipart field `file`)")
async def upload_document(principal: CurrentPrincipal, db: Db, settings: AppSettings,
                          file: Annotated[UploadFile, File(description="The PDF")],
                          filename: Annotated[str | None, Form(max_length=255)] = None) -> Response:
    name = (filename or file.filename or "document.pdf").strip()[:255] or "document.pdf"
    limit = settings.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiError(413, "payload_too_large", f"file: the upload is larger than {limit} bytes", field="file")
    if name.lower().endswith((".docx", ".doc")) or (file.content_type or "") in DOCX_TYPES \
            or content[:2] == b"PK":
        raise ApiError(415, "unsupported_media_type", "file: Word documents are not accepted; export the document to "
                       "PDF (File > Save as PDF) and upload the PDF", field="file")
    try:
        async with db.user_session(principal.user_id) as session:
            row = await documents_repo.store(session, principal.user_id, name, content)
            body = _document_json(row)
    except documents_repo.DocumentError as exc:
        raise ApiError(422, "invalid_document", f"file: {exc}", field="file") from None
    return json_response(body, status_code=201)


@router.get("/documents", summary="Your documents, newest first")
async def list_documents(principal: CurrentPrincipal, db: Db, q: str | None = None, limit: int = 50) -> Response:
    async with db.user_session(principal.user_id) as session:
        rows = await documents_repo.list_for_user(session, q, max(1, min(limit, 200)))
        return json_response([_document_json(r) for r in rows])


@router.get("/documents/{document_id}", summary="A document, with its extracted text")
async def get_document(document_id: str, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row = await session.get(Document, parse_uuid(document_id, "document_id"))
        if row is None:
            raise ApiError(404, "not_found", "document not found", field="document_id")
        return json_response(_document_json(row, text=True))


@router.delete("/documents/{document_id}", status_code=204, summary="Delete a document")
async def delete_document(document_id: str, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row = await session.get(Document, parse_uuid(document_id, "document_id"))
        if row is None:
            raise ApiError(404, "not_found", "document not found", field="document_id")
        await session.delete(row)
    return Response(status_code=204)


# --- preferences -------------------------------------------------------------------------------------------


class PreferencesUpdate(BaseModel):
    """Only the fields sent change; an invalid value is a 422 naming it, and nothing is written."""

    model_config = ConfigDict(extra="forbid")
    theme: Literal["system", "light", "dark"] | None = None
    notify_in_app: bool | None = None
    notify_email_on_completed: bool | None = None
    notify_email_on_declined: bool | None = None
    tone: Literal["concise", "friendly", "formal"] | None = None
    verbosity: Literal["brief", "normal", "detailed"] | None = None
    confirm_reminders: bool | None = None
    default_signing_order: Literal["parallel", "sequential"] | None = None
    reminder_days: int | None = Field(default=None, ge=1, le=999)


PREFERENCE_FIELDS = list(PreferencesUpdate.model_fields)


def _preferences_json(row: UserPreferences) -> dict[str, Any]:
    body = {name: getattr(row, name) for name in PREFERENCE_FIELDS}
    body["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return body


async def _preferences(session: Any, user_id: uuid.UUID) -> UserPreferences:
    row = await session.get(UserPreferences, user_id)
    if row is None:
        await profiles.ensure_profile(session, user_id, None)
        row = await session.get(UserPreferences, user_id)
    return row  # type: ignore[no-any-return]


@router.get("/preferences", summary="Your preferences")
async def get_preferences(principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        return json_response(_preferences_json(await _preferences(session, principal.user_id)))


@router.put("/preferences", summary="Change your preferences (send only what changes)")
async def put_preferences(body: PreferencesUpdate, principal: CurrentPrincipal, db: Db) -> Response:
    changes = body.model_dump(exclude_unset=True)
    nullable = {"reminder_days"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise ApiError(422, "invalid_request", f"{name}: may not be null", field=name)
    async with db.user_session(principal.user_id) as session:
        await _preferences(session, principal.user_id)
        if changes:
            await session.execute(update(UserPreferences).where(UserPreferences.user_id == principal.user_id)
                                  .values(**changes))
        row = await session.get(UserPreferences, principal.user_id, populate_existing=True)
        return json_response(_preferences_json(row))  # type: ignore[arg-type]


# --- API keys ------------------------------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


def _key_json(row: ApiKey) -> dict[str, Any]:
    return {
        "id": str(row.id), "name": row.name, "prefix": row.prefix,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


@router.post("/api-keys", status_code=201, summary="Create an API key (the key is shown once)")
async def create_api_key(body: ApiKeyCreate, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row, key = await profiles.create_api_key(session, principal.user_id, body.name.strip())
        await session.refresh(row)
        return json_response({**_key_json(row), "key": key}, status_code=201)


@router.get("/api-keys", summary="Your API keys (never the keys themselves)")
async def list_api_keys(principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        rows = (await session.execute(select(ApiKey).order_by(ApiKey.created_at.desc()))).scalars()
        return json_response([_key_json(r) for r in rows])


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(key_id: str, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        result = await session.execute(
            update(ApiKey).where(ApiKey.id == parse_uuid(key_id, "key_id"), ApiKey.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC)))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise ApiError(404, "not_found", "API key not found", field="key_id")
    return Response(status_code=204)
