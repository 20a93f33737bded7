"""Real PDFs: generated documents, anchor lookup, signed combined output, certificate and archive.

Clients parse these downloads (document analysis, evidence), so they must be genuine PDFs with real text.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from emulator.state import Envelope, Recipient

UNIT_TO_POINTS = {"pixels": 1.0, "points": 1.0, "inches": 72.0, "mms": 72 / 25.4, "cms": 72 / 2.54}


@dataclass
class AnchorHit:
    page_number: int  # 1-based, like DocuSign
    x: float  # from the left edge, DocuSign pixels (72 per inch)
    y: float  # from the top edge


def render_document(title: str, paragraphs: list[str], signature_blocks: list[tuple[str, str]]) -> bytes:
    """A letter-size contract; each signature block hides its anchor string in white, as DocuSign advises."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=letter, title=title, leftMargin=inch, rightMargin=inch)
    story: list[object] = [Paragraph(escape(title), styles["Title"]), Spacer(1, 12)]
    for text in paragraphs:
        story.append(Paragraph(escape(text), styles["BodyText"]))
        story.append(Spacer(1, 8))
    story.append(Spacer(1, 24))
    for label, anchor in signature_blocks:
        story.append(Paragraph(f"{escape(label)}:", styles["BodyText"]))
        story.append(
            Paragraph(
                f'Signature: <font color="white">{escape(anchor)}</font> ______________________',
                styles["BodyText"],
            )
        )
        story.append(Spacer(1, 18))
    doc.build(story)
    return out.getvalue()


def docx_pdf(name: str, data: bytes) -> bytes:
    """A Word document as a PDF: its headings, paragraphs and tables in order, with their text selectable."""
    import docx
    from docx.table import Table as WordTable
    from docx.text.paragraph import Paragraph as WordParagraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever python-docx raised
        raise ValueError("it is not a readable Word document") from exc
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=letter, title=name, leftMargin=inch, rightMargin=inch)
    story: list[object] = []
    for block in document.iter_inner_content():
        if isinstance(block, WordParagraph):
            text = block.text.strip()
            if not text:
                continue
            style_name = (block.style.name if block.style is not None else "") or ""
            level = style_name.removeprefix("Heading ").strip()
            style = styles["Title"] if style_name == "Title" else styles[f"Heading{level}"] \
                if level.isdigit() and 1 <= int(level) <= 6 else styles["BodyText"]
            story += [Paragraph(escape(text), style), Spacer(1, 6)]
        elif isinstance(block, WordTable):
            rows = [[Paragraph(escape(cell.text.strip()), styles["BodyText"]) for cell in row.cells]
                    for row in block.rows]
            if rows:
                table = Table(rows)
                table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
                story += [table, Spacer(1, 8)]
    if not story:
        story.append(Paragraph(escape(name), styles["Title"]))
    pdf.build(story)
    return out.getvalue()


def image_pdf(name: str, data: bytes) -> bytes:
    """An image as a one-page PDF, scaled to fit the page."""
    from reportlab.lib.utils import ImageReader

    try:
        image = ImageReader(io.BytesIO(data))
        width, height = image.getSize()
    except Exception as exc:  # noqa: BLE001 - Pillow's many errors for a damaged image
        raise ValueError("it is not a readable image") from exc
    page_w, page_h = letter
    scale = min((page_w - 72) / width, (page_h - 72) / height, 1.0)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter)
    pdf.setTitle(name)
    pdf.drawImage(image, 36, page_h - 36 - height * scale, width * scale, height * scale)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


# File extensions the emulator converts to PDF on upload, as DocuSign does.
CONVERTED = {"docx": docx_pdf, "png": image_pdf, "jpg": image_pdf, "jpeg": image_pdf, "gif": image_pdf}


def is_pdf(data: bytes) -> bool:
    if not data.startswith(b"%PDF"):
        return False
    try:
        return len(PdfReader(io.BytesIO(data)).pages) > 0
    except Exception:  # noqa: BLE001 - any parse failure means "not a usable PDF"
        return False


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def find_anchor(data: bytes, anchor: str, *, case_sensitive: bool = False) -> list[AnchorHit]:
    reader = PdfReader(io.BytesIO(data))
    hits: list[AnchorHit] = []
    needle = anchor if case_sensitive else anchor.lower()
    for index, page in enumerate(reader.pages):
        height = float(page.mediabox.height)
        found: list[AnchorHit] = []

        def visit(
            text: str,
            cm: list[float],
            tm: list[float],
            *_: object,
            _page: int = index + 1,
            _found: list[AnchorHit] = found,
            _height: float = height,
        ) -> None:
            hay = text if case_sensitive else text.lower()
            if needle and needle in hay:
                x = tm[4] * cm[0] + cm[4]
                y = tm[5] * cm[3] + cm[5]
                _found.append(AnchorHit(_page, x, _height - y))

        page_text = page.extract_text(visitor_text=visit) or ""
        if not found and needle in (page_text if case_sensitive else page_text.lower()):
            found.append(AnchorHit(index + 1, 72.0, height - 72.0))
        hits.extend(found)
    return hits


def _stamp_overlay(
    width: float, height: float, header: str, stamps: list[tuple[float, float, str]]
) -> PdfReader:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setFont("Helvetica", 7)
    c.setFillColor(colors.grey)
    c.drawString(18, height - 14, header)
    for x, y_from_top, text in stamps:
        c.setFillColor(colors.HexColor("#1a3e8c"))
        c.setFont("Helvetica-Oblique", 9)
        c.drawString(x, height - y_from_top, text)
    c.save()
    buf.seek(0)
    return PdfReader(buf)


def _signature_stamps(env: Envelope) -> dict[tuple[str, int], list[tuple[float, float, str]]]:
    """Where each signed signer's stamp goes: at their signHere tabs, else at the foot of the last page."""
    stamps: dict[tuple[str, int], list[tuple[float, float, str]]] = {}
    fallback_offset = 0
    for r in env.recipients:
        if r.kind != "signer" or r.status != "completed":
            continue
        text = f"Signed by {r.name} <{r.email}> on {r.signed_at}"
        tabs = r.tabs.get("signHereTabs") or []
        placed = False
        for tab in tabs:
            if tab.get("pageNumber") and tab.get("documentId"):
                key = (str(tab["documentId"]), int(tab["pageNumber"]))
                x = float(tab.get("xPosition") or 72)
                y = float(tab.get("yPosition") or 72) + 10
                stamps.setdefault(key, []).append((x, y, text))
                placed = True
        if not placed and env.documents:
            last = env.documents[-1]
            pages = page_count(base64.b64decode(last.pdf_base64))
            stamps.setdefault((last.document_id, pages), []).append((72, 700 + fallback_offset, text))
            fallback_offset += 14
    return stamps


def combined_pdf(env: Envelope, documents: list[tuple[str, bytes]] | None = None) -> bytes:
    """Merge the documents, stamping the envelope id on every page and each completed signature."""
    writer = PdfWriter()
    stamps = _signature_stamps(env)
    header = f"Docusign Envelope ID: {env.envelope_id.upper()}"
    docs = documents or [(d.document_id, base64.b64decode(d.pdf_base64)) for d in env.documents]
    for doc_id, data in docs:
        reader = PdfReader(io.BytesIO(data))
        for number, page in enumerate(reader.pages, start=1):
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            overlay = _stamp_overlay(width, height, header, stamps.get((doc_id, number), []))
            writer.add_page(page).merge_page(overlay.pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def single_document_pdf(env: Envelope, document_id: str) -> bytes:
    doc = next(d for d in env.documents if d.document_id == document_id)
    return combined_pdf(env, [(doc.document_id, base64.b64decode(doc.pdf_base64))])


def _recipient_rows(r: Recipient) -> list[list[str]]:
    rows = [
        [
            f"{r.name} <{r.email}>",
            f"{r.kind} #{r.recipient_id}, routing order {r.routing_order}, status {r.status}",
        ]
    ]
    for label, value in (
        ("Sent", r.sent_at),
        ("Viewed", r.delivered_at),
        ("Signed", r.signed_at),
        ("Declined", r.declined_at),
    ):
        if value:
            rows.append(["", f"{label}: {value}"])
    if r.declined_reason:
        rows.append(["", f"Decline reason: {r.declined_reason}"])
    return rows


def certificate_pdf(env: Envelope, sender_name: str, sender_email: str) -> bytes:
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=letter, title="Certificate Of Completion")
    summary = [
        ["Envelope Id", env.envelope_id.upper()],
        ["Subject", env.email_subject],
        ["Status", env.status.capitalize()],
        ["Envelope Originator", f"{sender_name} <{sender_email}>"],
        ["Created", env.created_at],
        ["Sent", env.sent_at or "-"],
        ["Completed", env.completed_at or "-"],
        ["Documents", ", ".join(d.name for d in env.documents)],
    ]
    if env.voided_reason:
        summary.append(["Voided reason", env.voided_reason])
    style = TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 9), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story: list[object] = [
        Paragraph("Certificate Of Completion", styles["Title"]),
        Table(summary, colWidths=[1.6 * inch, 4.8 * inch], style=style),
        Spacer(1, 14),
        Paragraph("Recipient Events", styles["Heading2"]),
    ]
    rows: list[list[str]] = []
    for r in sorted(env.recipients, key=lambda x: (x.routing_order, x.recipient_id)):
        rows.extend(_recipient_rows(r))
    if rows:
        story.append(Table(rows, colWidths=[2.6 * inch, 3.8 * inch], style=style))
    story += [Spacer(1, 14), Paragraph("Envelope History", styles["Heading2"])]
    history = [[a.at, a.action, a.user_name] for a in env.audit]
    if history:
        story.append(Table(history, colWidths=[2.2 * inch, 1.8 * inch, 2.4 * inch], style=style))
    doc.build(story)
    return out.getvalue()


def safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip() or "document"
    return cleaned if cleaned.lower().endswith(".pdf") else f"{cleaned}.pdf"


def archive_zip(env: Envelope, certificate: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for d in env.documents:
            zf.writestr(f"{d.document_id}_{safe_filename(d.name)}", single_document_pdf(env, d.document_id))
        zf.writestr("Summary.pdf", certificate)
    return out.getvalue()
