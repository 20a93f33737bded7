"""Documents repository: store bytes once with their hash and text, find them by id or file name."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
import zipfile

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Document


class DocumentError(Exception):
    """A document that cannot be used: empty, unreadable, or of a kind we cannot send or read."""


class UnsupportedDocument(DocumentError):
    """A file of a kind we do not take (a spreadsheet, a zip, a legacy .doc)."""


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IMAGES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
# What DocuSign is told the file is (`fileExtension`); it converts Word files and images to PDF itself.
EXTENSIONS = {PDF: "pdf", DOCX: "docx", **IMAGES}
ACCEPTED = "PDF, Word (.docx), PNG, JPEG or GIF"


def sniff(content: bytes) -> str:
    """The content type from the bytes themselves (a file name or a declared type can lie)."""
    if not content:
        raise DocumentError("the document is empty")
    head = content.lstrip()[:8]
    if head.startswith(b"%PDF"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            pass
        raise UnsupportedDocument(f"the document is a zip archive, not a Word document; upload a {ACCEPTED} file")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedDocument("Word 97-2003 (.doc) files cannot be read; save it as .docx or PDF and upload that")
    raise UnsupportedDocument(f"the document is not a {ACCEPTED} file")


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


def docx_text(content: bytes) -> str:
    """Blocking: the text of a Word document, paragraphs and table rows in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for a damaged file
        raise DocumentError(f"the Word document could not be read: {exc}") from None
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                parts.append(block.text.strip())
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    parts.append(" | ".join(cells))
    return "\n\n".join(parts)


def read(content: bytes) -> tuple[str, int | None, str]:
    """Blocking: (content type, page count if known, text) of an upload, or DocumentError."""
    kind = sniff(content)
    if kind == PDF:
        pages, text = pdf_text(content)
        return kind, pages, text
    if kind == DOCX:
        return kind, None, docx_text(content)  # pages are known once DocuSign has converted it
    return kind, 1, ""


def file_extension(document: Document) -> str:
    return EXTENSIONS.get(document.content_type, "pdf")


async def store(
    session: AsyncSession,
    user_id: uuid.UUID,
    filename: str,
    content: bytes,
    *,
    envelope_pk: uuid.UUID | None = None,
    docusign_document_id: str | None = None,
) -> Document:
    content_type, pages, text = await asyncio.to_thread(read, content)
    row = Document(
        user_id=user_id, filename=filename, content_type=content_type, size_bytes=len(content),
        content_hash=hashlib.sha256(content).hexdigest(), content=content, processing_status="ready",
        page_count=pages, text_content=text, envelope_pk=envelope_pk, docusign_document_id=docusign_document_id,
    )
    session.add(row)
    await session.flush()
    return row


async def find_same(session: AsyncSession, filename: str, content: bytes) -> Document | None:
    """The user's document with these very bytes and this name, if they stored it before (re-sent messages)."""
    digest = hashlib.sha256(content).hexdigest()
    return (await session.execute(
        select(Document).where(Document.content_hash == digest, Document.filename == filename)
        .order_by(Document.created_at.desc()).limit(1)
    )).scalar_one_or_none()


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
