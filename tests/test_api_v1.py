"""`/v1` REST: document uploads, preferences and API keys; bad input changes nothing."""

from __future__ import annotations

import hashlib
import io

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from agent_helpers import word_document

from tests.api_helpers import ApiServer, api_server  # noqa: F401


def pdf(*pages: str) -> bytes:
    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, pagesize=letter)
    for text in pages:
        document.drawString(72, 720, text)
        document.showPage()
    document.save()
    return buffer.getvalue()


async def test_documents(api_server: ApiServer) -> None:
    content = pdf("Mutual NDA between Acme and Globex", "Signature page")
    async with api_server.http("frank") as http, api_server.http("grace") as other:
        response = await http.post("/v1/documents", files={"file": ("nda.pdf", content, "application/pdf")})
        assert response.status_code == 201, response.text
        doc = response.json()
        assert doc["filename"] == "nda.pdf" and doc["page_count"] == 2 and doc["status"] == "ready"
        assert doc["sha256"] == hashlib.sha256(content).hexdigest() and doc["size_bytes"] == len(content)
        listed = (await http.get("/v1/documents")).json()
        assert [d["id"] for d in listed] == [doc["id"]]
        full = (await http.get(f"/v1/documents/{doc['id']}")).json()
        assert "Mutual NDA between Acme and Globex" in full["text"]
        # another user sees nothing of it
        assert (await other.get("/v1/documents")).json() == []
        assert (await other.get(f"/v1/documents/{doc['id']}")).status_code == 404
        assert (await other.delete(f"/v1/documents/{doc['id']}")).status_code == 404
        # refusals name the field and store nothing
        docx = await http.post("/v1/documents", files={"file": (
            "terms.docx", b"PK\x03\x04 word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")})
        assert docx.status_code == 415 and docx.json()["field"] == "file" and "PDF" in docx.json()["message"]
        junk = await http.post("/v1/documents", files={"file": ("x.pdf", b"hello, not a pdf", "application/pdf")})
        assert junk.status_code == 415 and junk.json()["field"] == "file"
        missing = await http.post("/v1/documents", data={"filename": "x.pdf"})
        assert missing.status_code == 422 and missing.json()["field"] == "file"
        big = b"%PDF-1.4\n" + b"0" * (api_server.settings.max_upload_bytes + 1)
        too_big = await http.post("/v1/documents", files={"file": ("big.pdf", big, "application/pdf")})
        assert too_big.status_code == 413
        assert len((await http.get("/v1/documents")).json()) == 1
        assert (await http.delete(f"/v1/documents/{doc['id']}")).status_code == 204
        assert (await http.get("/v1/documents")).json() == []


async def test_word_documents_and_downloads(api_server: ApiServer) -> None:
    content = word_document("Consulting Agreement", "Acme Corp engages Globex LLC for twelve months.")
    async with api_server.http("wendy") as http, api_server.http("xavier") as other:
        response = await http.post("/v1/documents", files={"file": ("consulting.docx", content, "application/octet-stream")})
        assert response.status_code == 201, response.text
        doc = response.json()
        assert doc["content_type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        assert doc["status"] == "ready" and doc["page_count"] is None
        text = (await http.get(f"/v1/documents/{doc['id']}")).json()["text"]
        assert "Consulting Agreement" in text and "Acme Corp engages Globex LLC" in text and "Fee | $12,000" in text
        download = await http.get(f"/v1/documents/{doc['id']}/content")
        assert download.status_code == 200 and download.content == content
        assert download.headers["content-disposition"].startswith('attachment; filename="consulting.docx"')
        assert (await other.get(f"/v1/documents/{doc['id']}/content")).status_code == 404
        # a legacy .doc, a spreadsheet-like zip and a damaged .docx are refused and nothing is kept
        for name, body, status in (("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 64, 415),
                                   ("sheet.docx", _zip({"xl/workbook.xml": "x"}), 415),
                                   ("broken.docx", _zip({"word/document.xml": "<not xml"}), 422)):
            refused = await http.post("/v1/documents", files={"file": (name, body, "application/octet-stream")})
            assert refused.status_code == status and refused.json()["field"] == "file", (name, refused.text)
        assert [d["id"] for d in (await http.get("/v1/documents")).json()] == [doc["id"]]


def _zip(files: dict[str, str]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


async def test_preferences(api_server: ApiServer) -> None:
    async with api_server.http("heidi") as http:
        prefs = (await http.get("/v1/preferences")).json()
        assert prefs["theme"] == "system" and prefs["tone"] == "friendly" and prefs["confirm_reminders"] is True
        changed = await http.put("/v1/preferences", json={"theme": "dark", "reminder_days": 3})
        assert changed.status_code == 200 and changed.json()["theme"] == "dark" and changed.json()["reminder_days"] == 3
        for body, field in (({"tone": "sarcastic", "theme": "light"}, "tone"), ({"reminder_days": 0}, "reminder_days"),
                            ({"colour": "red"}, "colour"), ({"confirm_reminders": "perhaps"}, "confirm_reminders"),
                            ({"theme": None}, "theme")):
            bad = await http.put("/v1/preferences", json=body)
            assert bad.status_code == 422 and bad.json()["field"] == field, (body, bad.json())
        after = (await http.get("/v1/preferences")).json()
        assert after["theme"] == "dark" and after["tone"] == "friendly" and after["reminder_days"] == 3


async def test_api_keys(api_server: ApiServer) -> None:
    async with api_server.http("ivan") as http:
        created = await http.post("/v1/api-keys", json={"name": "ci"})
        assert created.status_code == 201
        key = created.json()["key"]
        assert key.startswith("dsa_") and created.json()["prefix"] == key[:10]
        listed = (await http.get("/v1/api-keys")).json()
        assert [k["name"] for k in listed] == ["ci"] and "key" not in listed[0]
        assert (await http.post("/v1/api-keys", json={"name": ""})).json()["field"] == "name"
    # the key works on the LangGraph API as that user
    async with api_server.http(None, headers={"X-Api-Key": key}) as program:
        thread = (await program.post("/threads", json={"metadata": {"via": "key"}})).json()
        me = (await program.get("/v1/me")).json()
        assert me["user_id"] == str(api_server.users["ivan"]) and me["via"] == "api_key"
    async with api_server.http("ivan") as http:
        assert (await http.get(f"/threads/{thread['thread_id']}")).status_code == 200
        assert (await http.delete(f"/v1/api-keys/{created.json()['id']}")).status_code == 204
        assert (await http.delete(f"/v1/api-keys/{created.json()['id']}")).status_code == 404
    async with api_server.http(None, headers={"X-Api-Key": key}) as program:
        assert (await program.get("/v1/me")).status_code == 401
