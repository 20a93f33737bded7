"""Documents repository: store bytes once with their hash and text, find them by id or file name."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Document


class DocumentError(Exception):
    """A document that cannot be used: not a PDF, empty, unreadable."""


def pdf_text(content: bytes) -> tuple[int, str]:
    """Blocking (run it in a thread): page count and text of a PDF, or DocumentError with the reason."""
    if not content:
        raise DocumentError("the document is empty")
    if not content.lstrip().startswith(b"%PDF"):
        raise DocumentError("the document is not a PDF")
    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"the PDF could not be read: {exc}") from None
    if not pages:
        raise DocumentError("the PDF has no pages")
    return len(pages), "\n\n".join(pages).strip()


async def store(
    session: AsyncSession,
    user_id: uuid.UUID,
    filename: str,
    content: bytes,
    *,
    content_type: str = "application/pdf",
    envelope_pk: uuid.UUID | None = None,
    docusign_document_id: str | None = None,
) -> Document:
    pages, text = await asyncio.to_thread(pdf_text, content)
    row = Document(
        user_id=user_id, filename=filename, content_type=content_type, size_bytes=len(content),
        content_hash=hashlib.sha256(content).hexdigest(), content=content, processing_status="ready",
        page_count=pages, text_content=text, envelope_pk=envelope_pk, docusign_document_id=docusign_document_id,
    )
    session.add(row)
    await session.flush()
    return row


async def find(session: AsyncSession, ref: str) -> Document | None:
    """By id, else by exact file name (case-insensitive), else by a unique partial name; newest first."""
    try:
        by_id = await session.get(Document, uuid.UUID(ref))
        if by_id is not None:
            return by_id
    except ValueError:
        pass
    exact = (await session.execute(
        select(Document).where(func.lower(Document.filename) == ref.lower()).order_by(Document.created_at.desc()).limit(1)
    )).scalar_one_or_none()
    if exact is not None:
        return exact
    partial = (await session.execute(
        select(Document).where(Document.filename.ilike(f"%{ref}%")).order_by(Document.created_at.desc()).limit(2)
    )).scalars().all()
    return partial[0] if len(partial) == 1 else None


async def list_for_user(session: AsyncSession, search_text: str | None = None, limit: int = 50) -> list[Document]:
    stmt = select(Document).order_by(Document.created_at.desc()).limit(limit)
    if search_text:
        stmt = stmt.where(Document.filename.ilike(f"%{search_text}%"))
    return list((await session.execute(stmt)).scalars().all())
