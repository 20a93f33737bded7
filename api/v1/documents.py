"""`/v1/documents`: the user's uploads, which the agent sends and analyses.

Uploads are PDFs, Word documents (.docx) and images, recognised by their bytes (not their name), stored with
their SHA-256, page count and text (pypdf or python-docx, in a thread, so the event loop never parses a file).
Word files are not converted here: DocuSign converts them itself when they are sent (the emulator does the same
with a rendering of its own), and their text is what analysis reads.
"""

from __future__ import annotations

import uuid

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from api.auth import CurrentPrincipal
from api.deps import AppSettings, Db
from api.errors import ApiError
from api.responses import attachment, json_response
from db import documents as documents_repo
from db.models import Document

router = APIRouter(prefix="/v1", tags=["v1"])

def _document_json(row: Document, *, text: bool = False) -> dict[str, Any]:
    body = {
        "id": str(row.id), "filename": row.filename, "content_type": row.content_type, "size_bytes": row.size_bytes,
        "sha256": row.content_hash, "page_count": row.page_count, "status": row.processing_status,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if text:
        body["text"] = row.text_content
    return body


@router.post("/documents", status_code=201, summary="Upload a PDF, Word (.docx) or image file (multipart `file`)",
             responses={415: {"description": "The file is not a PDF, Word (.docx) or image"}})
async def upload_document(principal: CurrentPrincipal, db: Db, settings: AppSettings,
                          file: Annotated[UploadFile, File(description="The PDF, .docx, PNG, JPEG or GIF")],
                          filename: Annotated[str | None, Form(max_length=255)] = None) -> Response:
    name = (filename or file.filename or "document.pdf").strip()[:255] or "document.pdf"
    limit = settings.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiError(413, "payload_too_large", f"file: the upload is larger than {limit} bytes", field="file")
    try:
        async with db.user_session(principal.user_id) as session:
            row = await documents_repo.store(session, principal.user_id, name, content)
            body = _document_json(row)
    except documents_repo.UnsupportedDocument as exc:
        raise ApiError(415, "unsupported_media_type", f"file: {exc}", field="file") from None
    except documents_repo.DocumentError as exc:
        raise ApiError(422, "invalid_document", f"file: {exc}", field="file") from None
    return json_response(body, status_code=201)


@router.get("/documents", summary="Your documents, newest first")
async def list_documents(principal: CurrentPrincipal, db: Db, q: str | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    async with db.user_session(principal.user_id) as session:
        rows = await documents_repo.list_for_user(session, q, limit)
        return json_response([_document_json(r) for r in rows])


@router.get("/documents/{document_id}", summary="A document, with its extracted text")
async def get_document(document_id: uuid.UUID, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row = await session.get(Document, document_id)
        if row is None:
            raise ApiError(404, "not_found", "document not found", field="document_id")
        return json_response(_document_json(row, text=True))


@router.get("/documents/{document_id}/content", summary="A document's bytes, as uploaded or downloaded")
async def document_content(document_id: uuid.UUID, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row = await session.get(Document, document_id)
        if row is None or row.content is None:
            raise ApiError(404, "not_found", "document not found", field="document_id")
        return Response(row.content, media_type=row.content_type,
                        headers={"Content-Disposition": attachment(row.filename), "Cache-Control": "private, no-store"})


@router.delete("/documents/{document_id}", status_code=204, summary="Delete a document")
async def delete_document(document_id: uuid.UUID, principal: CurrentPrincipal, db: Db) -> Response:
    async with db.user_session(principal.user_id) as session:
        row = await session.get(Document, document_id)
        if row is None:
            raise ApiError(404, "not_found", "document not found", field="document_id")
        await session.delete(row)
    return Response(status_code=204)
