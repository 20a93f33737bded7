"""The chat page in a real browser (Debian's chromium, headless, driven by Playwright) against the product as
`serve` runs it: the API, the built UI, the mounted emulator with Connect feeding our webhook, the offline model.

Every wait is on the condition asserted (Playwright's `expect` with generous timeouts). Each test signs in as a
user of its own, except the one about local sign-in, and every page must load nothing from outside the server.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_helpers import CONTRACT_LINES, make_pdf, word_document
from playwright.sync_api import Page, expect

from tests.ui_helpers import ProductServer, browser, product_server  # noqa: F401

WAIT = 60_000  # ms: a loaded 2-core machine


@pytest.fixture
def user() -> str:
    return f"ui-{uuid.uuid4().hex[:8]}"


class Session:
    """One person's browser tab, signed in with their own token, watching where every request goes."""

    def __init__(self, browser: Any, server: ProductServer, name: str | None, viewport: dict[str, int]) -> None:
        self.server = server
        self.name = name
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.context.set_default_timeout(WAIT)
        if name is not None:
            credentials = {"kind": "bearer", "secret": server.token(name), "email": f"{name}@example.com"}
            self.context.add_init_script(f"sessionStorage.setItem('dsa.credentials', {json.dumps(json.dumps(credentials))})")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page: Page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url)
        expect(self.page.get_by_label("Message", exact=True)).to_be_visible(timeout=WAIT)

    def say(self, text: str) -> None:
        self.idle()  # the composer takes a message once the previous run is over
        box = self.page.get_by_label("Message", exact=True)
        box.fill(text)
        box.press("Enter")

    def idle(self) -> None:
        expect(self.page.get_by_role("button", name="Send", exact=True)).to_be_visible(timeout=WAIT)

    def envelope_ids(self) -> list[str]:
        with httpx.Client(base_url=self.server.url, headers=self.server.headers(self.name or ""), timeout=60) as http:
            return [e["envelope_id"] for e in http.get("/v1/envelopes").json()["envelopes"]]

    def close(self) -> None:
        origin = self.server.url
        outside = [u for u in self.requests if not u.startswith((origin, "data:", "blob:"))]
        self.context.close()
        assert outside == [], f"the page reached outside the server: {outside}"
        assert self.errors == [], self.errors


@pytest.fixture
def session(browser: Any, product_server: ProductServer, user: str) -> Iterator[Session]:
    tab = Session(browser, product_server, user, {"width": 1400, "height": 900})
    yield tab
    tab.close()


def approval(page: Page) -> Any:
    return page.get_by_role("article", name=re.compile("Approval needed"))


COUNT_STREAMED_TOKENS = """
window.__tokenEvents = 0;
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  if (!String(args[0]).endsWith("/runs/stream") || !response.body) return response;
  const [page, counted] = response.body.tee();
  (async () => {
    const reader = counted.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      window.__tokenEvents += (value.match(/^event: messages$/gm) || []).length;
    }
  })();
  return new Response(page, { status: response.status, statusText: response.statusText, headers: response.headers });
};
"""


def test_templates_stream_as_tokens_with_a_tool_card(session: Session) -> None:
    page = session.page
    page.add_init_script(COUNT_STREAMED_TOKENS)
    page.reload()
    expect(page.get_by_text("offline-planner · offline model")).to_be_visible(timeout=WAIT)
    with page.expect_request(lambda r: r.url.endswith("/runs/stream"), timeout=WAIT) as streamed:
        session.say("what templates do I have")
    sent = json.loads(streamed.value.post_data or "{}")
    assert "messages-tuple" in sent["stream_mode"]
    card = page.get_by_role("group", name="Tool List templates: Done")
    expect(card).to_be_visible(timeout=WAIT)
    expect(card).to_contain_text("You have 3 templates")
    expect(page.locator(".msg-ai .markdown li").filter(has_text="Mutual NDA")).to_be_visible(timeout=WAIT)
    session.idle()
    assert page.evaluate("window.__tokenEvents") > 5  # the answer arrived token by token
    card.get_by_role("button", name="Details").click()
    expect(card.locator("pre").first).to_contain_text("{}")
    expect(card.locator("pre").last).to_contain_text('"templates"')


def test_send_approve_sign_and_the_panel_follows(session: Session) -> None:
    page, email = session.page, f"bob-{session.name}@example.com"
    session.say(f"send the NDA template to Bob Stone {email}, cc legal@example.com")
    card = approval(page)
    expect(card).to_contain_text(f"Send Mutual NDA to Bob Stone <{email}>, CC Legal <legal@example.com>, "
                                 "subject “Please sign the Mutual Non-Disclosure Agreement”.", timeout=WAIT)
    expect(card.locator("em")).to_have_text("Mutual NDA")
    expect(page.get_by_role("group", name="Tool Send template: Waiting for your approval")).to_be_visible()
    card.get_by_role("button", name="Approve").click()
    envelope = page.locator(".envelope").filter(has_text="Please sign the Mutual Non-Disclosure Agreement")
    expect(envelope).to_contain_text("Sent", timeout=WAIT)
    expect(envelope).to_contain_text(f"Waiting on Bob Stone <{email}>")
    [envelope_id] = session.envelope_ids()
    with session.server.emulator() as emulator:
        signed = emulator.post(f"/envelopes/{envelope_id}/sign", json={"recipient_id": "1"})
        assert signed.json()["status"] == "completed", signed.text
    expect(envelope.locator(".badge")).to_have_text("Completed", timeout=WAIT)  # no reload: /v1/events
    expect(envelope).to_contain_text("signed")
    expect(page.get_by_role("status").filter(has_text="is completed")).to_be_visible(timeout=WAIT)
    with page.expect_download(timeout=WAIT) as download:
        envelope.get_by_role("button", name=re.compile("Download the signed PDF")).click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"
    with page.expect_download(timeout=WAIT) as certificate:
        envelope.get_by_role("button", name=re.compile("Download the certificate")).click()
    assert "certificate" in certificate.value.suggested_filename


@pytest.mark.parametrize("reason", ["", "wrong recipient"])
def test_reject_sends_nothing(session: Session, reason: str) -> None:
    page, email = session.page, f"reject-{session.name}@example.com"
    session.say(f"send the NDA template to Rita Jones {email}")
    card = approval(page)
    card.get_by_role("button", name="Reject").click()
    if reason:
        card.get_by_label("Reason (optional, the agent is told)").fill(reason)
    card.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("group", name="Tool Send template: Rejected")).to_contain_text(
        f"The user rejected send_template{': ' + reason if reason else '.'}", timeout=WAIT)
    session.idle()
    assert session.server.emulator_envelopes(email) == []  # DocuSign never heard of it
    assert session.envelope_ids() == []


def test_edit_a_recipient_email_in_the_form(session: Session) -> None:
    page, old, new = session.page, f"carol-{session.name}@example.com", f"carol.new-{session.name}@example.org"
    session.say(f"send the NDA template to Carol Jones {old}")
    card = approval(page)
    card.get_by_role("button", name="Edit").click()
    form = card.get_by_role("form", name="Edit Send template")
    row = form.get_by_role("group", name="Recipient 1")
    row.get_by_label("Email").fill("not-an-email")
    form.get_by_role("button", name="Send edited").click()
    expect(row.get_by_role("alert")).to_have_text("Enter an email address like name@example.com.")
    row.get_by_label("Email").fill(new)
    form.get_by_role("button", name="Add recipient").click()
    form.get_by_role("button", name="Remove recipient 2").click()
    form.get_by_role("button", name="Send edited").click()
    expect(page.locator(".envelope").filter(has_text="Carol Jones")).to_contain_text(new, timeout=WAIT)
    assert session.server.emulator_envelopes(old) == []
    [sent] = session.server.emulator_envelopes(new)
    assert [r.email for r in sent.recipients] == [new]


def _drop(page: Page, name: str, mime: str, content: bytes) -> None:
    """Drags a file onto the composer, as a person dragging it from their desktop."""
    data = base64.b64encode(content).decode()
    page.evaluate("""([name, mime, data]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: mime }));
        const target = document.querySelector("form.composer");
        for (const type of ["dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }
    }""", [name, mime, data])


def test_attach_a_pdf_and_a_docx_send_one_analyse_the_other(session: Session, tmp_path: Any) -> None:
    page, email = session.page, f"ann-{session.name}@example.com"
    pdf = tmp_path / "msa.pdf"
    pdf.write_bytes(make_pdf(CONTRACT_LINES))
    page.locator("input[type=file]").set_input_files(str(pdf))
    _drop(page, "supplier.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          word_document("Supplier Terms", "This agreement between Initech and Hooli covers office supplies.",
                        "Payment is due within 45 days."))
    attachments = page.get_by_role("list", name="Attachments")
    expect(attachments.get_by_role("listitem").filter(has_text="msa.pdf")).to_contain_text("1 page", timeout=WAIT)
    expect(attachments.get_by_role("listitem").filter(has_text="supplier.docx")).to_contain_text("ready", timeout=WAIT)
    session.say(f"send msa.pdf to Ann Lee {email}")
    expect(page.get_by_role("list", name="Attached files").first).to_contain_text("supplier.docx", timeout=WAIT)
    card = approval(page)
    expect(card).to_contain_text(f"Send msa.pdf for signature to Ann Lee <{email}>", timeout=WAIT)
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".envelope").filter(has_text="Please sign: msa.pdf")).to_contain_text("Sent", timeout=WAIT)
    [envelope] = session.server.emulator_envelopes(email)
    assert [d.name for d in envelope.documents] == ["msa.pdf"]
    session.say("summarise supplier.docx")
    analysis = page.get_by_role("region", name="Summary of supplier.docx")
    expect(analysis).to_be_visible(timeout=WAIT)
    expect(analysis.get_by_role("heading", name="Summary of supplier.docx")).to_be_visible()
    expect(analysis).to_contain_text("Initech")
    assert "{" not in analysis.inner_text()  # words, lists and tables: never raw JSON


def test_reload_restores_the_conversation_and_threads(session: Session) -> None:
    page = session.page
    session.say("what templates do I have")
    expect(page.get_by_role("group", name="Tool List templates: Done")).to_be_visible(timeout=WAIT)
    expect(page).to_have_url(re.compile(r"/t/[0-9a-f-]{36}$"), timeout=WAIT)
    session.idle()
    page.reload()
    expect(page.get_by_text("what templates do I have").first).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("group", name="Tool List templates: Done")).to_be_visible(timeout=WAIT)
    threads = page.get_by_role("navigation", name="Conversations")
    expect(threads.get_by_role("link", name="what templates do I have")).to_have_attribute("aria-current", "page")
    # a second conversation comes first; search, rename and delete
    threads.get_by_role("button", name="New chat").click()
    session.say("list my envelopes")
    expect(threads.get_by_role("link").first).to_have_text("list my envelopes", timeout=WAIT)
    threads.get_by_label("Search conversations").fill("templates")
    expect(threads.get_by_role("link")).to_have_count(1)
    threads.get_by_label("Search conversations").fill("")
    threads.get_by_role("button", name="Rename what templates do I have").click()
    threads.get_by_label("New name").fill("Template question")
    threads.get_by_role("button", name="Save").click()
    expect(threads.get_by_role("link", name="Template question")).to_be_visible(timeout=WAIT)
    page.once("dialog", lambda d: d.accept())
    threads.get_by_role("button", name="Delete Template question").click()
    expect(threads.get_by_role("link", name="Template question")).to_have_count(0, timeout=WAIT)
    expect(threads.get_by_role("link")).to_have_count(1)


def test_edit_and_regenerate_make_versions_reachable_after_a_long_turn(session: Session) -> None:
    page = session.page
    session.say("what templates do I have")
    expect(page.get_by_role("group", name="Tool List templates: Done")).to_be_visible(timeout=WAIT)
    session.say(f"send the NDA template to Dan Park dan-{session.name}@example.com")
    approval(page).get_by_role("button", name="Approve").click()  # a turn of many checkpoints
    expect(page.get_by_role("group", name="Tool Send template: Done")).to_be_visible(timeout=WAIT)
    session.idle()
    first = page.locator(".msg-human").first
    first.get_by_role("button", name="Edit message").click()
    first.get_by_label("Edit your message").fill("list my envelopes")
    first.get_by_role("button", name="Send edit").click()
    expect(page.get_by_role("group", name="Tool List envelopes: Done")).to_be_visible(timeout=WAIT)
    session.idle()
    versions = page.locator(".msg-human").first.get_by_role("group", name="Versions")
    expect(versions).to_contain_text("2 / 2", timeout=WAIT)
    expect(page.get_by_role("group", name="Tool Send template: Done")).to_have_count(0)
    versions.get_by_role("button", name="Previous version").click()
    expect(page.locator(".msg-human").first).to_contain_text("what templates do I have", timeout=WAIT)
    expect(page.get_by_role("group", name="Tool Send template: Done")).to_be_visible()  # the long turn is back
    page.get_by_role("button", name="Regenerate").click()
    session.idle()
    expect(page.locator(".msg-ai").last.get_by_role("group", name="Versions")).to_contain_text("2 / 2", timeout=WAIT)


def test_stop_cancels_the_running_run(session: Session) -> None:
    page = session.page
    with session.server.emulator() as emulator:
        emulator.post("/faults", json={"route": "GET /envelopes$", "kind": "latency", "latency_ms": 30000, "count": 1})
        try:
            session.say("list my envelopes")
            expect(page.get_by_role("group", name="Tool List envelopes: Running")).to_be_visible(timeout=WAIT)
            page.get_by_role("button", name="Stop").click()
            session.idle()
            thread_id = page.url.rsplit("/", 1)[-1]
            with httpx.Client(base_url=session.server.url, headers=session.server.headers(session.name or "")) as http:
                runs = http.get(f"/threads/{thread_id}/runs").json()
            assert [r["status"] for r in runs] == ["interrupted"]
            expect(page.get_by_role("group", name="Tool List envelopes: Done")).to_have_count(0)
        finally:
            emulator.delete("/faults")


def test_a_run_going_on_during_a_reload_is_joined_again(session: Session) -> None:
    page = session.page
    with session.server.emulator() as emulator:
        emulator.post("/faults", json={"route": "GET /templates$", "kind": "latency", "latency_ms": 4000, "count": 1})
        try:
            session.say("what templates do I have")
            expect(page.get_by_role("group", name="Tool List templates: Running")).to_be_visible(timeout=WAIT)
            page.reload()
            expect(page.get_by_role("status").filter(has_text="The agent is working")).to_be_visible(timeout=WAIT)
            expect(page.get_by_role("group", name="Tool List templates: Done")).to_be_visible(timeout=WAIT)
            expect(page.locator(".msg-ai .markdown li").filter(has_text="Mutual NDA")).to_be_visible(timeout=WAIT)
        finally:
            emulator.delete("/faults")


def test_preferences_theme_is_kept_on_the_server(session: Session) -> None:
    page = session.page
    page.get_by_role("button", name="Preferences").click()
    dialog = page.get_by_role("dialog", name="Preferences")
    dialog.get_by_label("Theme").select_option("dark")
    dialog.get_by_label("Tone").select_option("formal")
    dialog.get_by_role("button", name="Save preferences").click()
    expect(dialog.get_by_role("status")).to_have_text("Saved.", timeout=WAIT)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark", timeout=WAIT)
    with httpx.Client(base_url=session.server.url, headers=session.server.headers(session.name or "")) as http:
        assert http.get("/v1/preferences").json()["tone"] == "formal"


def test_narrow_screen(browser: Any, product_server: ProductServer, user: str) -> None:
    tab = Session(browser, product_server, user, {"width": 390, "height": 844})
    page = tab.page
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page.get_by_role("navigation", name="Conversations")).to_be_hidden()
        page.get_by_role("button", name="Conversations").click()
        expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()
        page.get_by_role("button", name="New chat").click()
        tab.say(f"send the NDA template to Eve Moss eve-{user}@example.com")
        card = approval(page)
        expect(card.get_by_role("button", name="Approve")).to_be_in_viewport(timeout=WAIT)
        card.get_by_role("button", name="Approve").click()
        tab.idle()
        page.get_by_role("button", name="Envelopes").click()
        expect(page.locator(".envelope").first).to_be_visible(timeout=WAIT)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        tab.close()


# Holds the page's GET /auth/local until the test releases it, so the sign-in page is seen while the server has
# not yet said whether local sign-in is on.
HOLD_SIGN_IN_STATUS = """() => {
  const fetch = window.fetch.bind(window);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  window.releaseSignInStatus = () => release();
  window.fetch = (url, init) => String(url).endsWith("/auth/local") && !(init && init.method)
    ? new Promise((resolve, reject) => {
        held.then(() => fetch(url, init)).then(resolve, reject);
        init?.signal?.addEventListener("abort", () => reject(init.signal.reason));  // as a real fetch would
      })
    : fetch(url, init);
}"""


def test_local_sign_in(browser: Any, product_server: ProductServer) -> None:
    tab = Session(browser, product_server, None, {"width": 1200, "height": 800})
    page = tab.page
    try:
        expect(page.get_by_text("Local user")).to_be_visible(timeout=WAIT)
        page.evaluate(HOLD_SIGN_IN_STATUS)
        page.get_by_role("button", name="Sign out").click()
        # No form until the server has said how to sign in: a form that grew a button above "Sign in" would move
        # it from under a click already under way.
        expect(page.get_by_role("status")).to_have_text("Checking how to sign in…", timeout=WAIT)
        expect(page.get_by_role("heading", name="Sign in to DocuSign Agent")).to_have_count(0)
        page.evaluate("window.releaseSignInStatus()")
        expect(page.get_by_role("heading", name="Sign in to DocuSign Agent")).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("button", name="Continue as the local user")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("You signed out.")
        expect(page.get_by_role("alert")).to_have_count(0)  # signing out is not an error
        page.get_by_label("Bearer token or API key").fill("not-a-token")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("alert")).to_contain_text("API key is not valid", timeout=WAIT)
        expect(page.get_by_text("You signed out.")).to_have_count(0)
        page.get_by_role("button", name="Continue as the local user").click()
        expect(page.get_by_text("Local user")).to_be_visible(timeout=WAIT)
        expect(page.get_by_label("Message", exact=True)).to_be_visible()
    finally:
        tab.close()


def test_sign_in_offers_the_token_field_when_the_server_does_not_say(browser: Any,
                                                                   product_server: ProductServer) -> None:
    tab = Session(browser, product_server, None, {"width": 1200, "height": 800})
    page = tab.page
    try:
        expect(page.get_by_text("Local user")).to_be_visible(timeout=WAIT)
        page.evaluate(HOLD_SIGN_IN_STATUS)  # and never released
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status").filter(has_text="Checking how to sign in")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("Local sign-in is off here (the server could not be reached)")).to_be_visible(
            timeout=WAIT)  # the page gives up waiting after 15 s
        expect(page.get_by_label("Bearer token or API key")).to_be_editable()
    finally:
        tab.close()


def test_the_panel_shows_who_declined_and_why_and_bulk_progress(session: Session) -> None:
    page, email = session.page, f"fay-{session.name}@example.com"
    session.say(f"send the NDA template to Fay Wong {email}")
    approval(page).get_by_role("button", name="Approve").click()
    envelope = page.locator(".envelope").filter(has_text=email)
    expect(envelope).to_contain_text("Sent", timeout=WAIT)
    [envelope_id] = session.envelope_ids()
    with session.server.emulator() as emulator:
        emulator.post(f"/envelopes/{envelope_id}/decline", json={"recipient_id": "1", "reason": "wrong fee"})
    expect(envelope.locator(".badge")).to_have_text("Declined", timeout=WAIT)
    expect(envelope).to_contain_text(f"Declined by Fay Wong <{email}>: “wrong fee”")
    session.say(f"bulk send the Offer Letter template to: a-{session.name}@example.com, b-{session.name}@example.com")
    card = approval(page)
    expect(card).to_contain_text("Bulk send Offer Letter to 2 recipients", timeout=WAIT)
    card.get_by_role("button", name="Approve").click()
    bulk = page.get_by_role("region", name="Bulk sends")
    expect(bulk.get_by_role("progressbar")).to_be_visible(timeout=WAIT)
    expect(bulk).to_contain_text("of 2 sent", timeout=WAIT)


def test_a_refused_message_reads_as_a_sentence_with_retry(session: Session, tmp_path: Any) -> None:
    page = session.page
    pdf = tmp_path / "gone.pdf"
    pdf.write_bytes(make_pdf(["To be deleted"]))
    page.locator("input[type=file]").set_input_files(str(pdf))
    chip = page.get_by_role("list", name="Attachments").get_by_role("listitem").filter(has_text="gone.pdf")
    expect(chip).to_contain_text("1 page", timeout=WAIT)
    with httpx.Client(base_url=session.server.url, headers=session.server.headers(session.name or "")) as http:
        [document] = http.get("/v1/documents").json()
        assert http.delete(f"/v1/documents/{document['id']}").status_code == 204
    session.say("summarise gone.pdf")
    banner = page.get_by_role("alert").filter(has_text="That did not go through.")
    expect(banner).to_contain_text(f"there is no document '{document['id']}' of yours", timeout=WAIT)
    banner.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("alert").filter(has_text="That did not go through.")).to_be_visible(timeout=WAIT)


def _held_over_mcp(server: ProductServer, name: str, recipient: str) -> dict[str, Any]:
    """An MCP client without elicitation asks to send the NDA: the call is held for the person. (On a thread of
    its own: Playwright's sync API keeps an event loop running on this one.)"""
    from concurrent.futures import ThreadPoolExecutor

    from tests.mcp_helpers import mcp_client, payload

    async def hold() -> dict[str, Any]:
        async with mcp_client(server, name) as client:  # type: ignore[arg-type]
            return payload(await client.call_tool("send_template", {
                "template": "Mutual NDA", "recipients": [{"name": "Rita Held", "email": recipient}]}))

    import asyncio
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, hold()).result(timeout=120)


def test_waiting_for_you_decides_calls_held_by_an_mcp_client(session: Session) -> None:
    page, server = session.page, session.server
    first = f"rita-{uuid.uuid4().hex[:6]}@example.com"
    held = _held_over_mcp(server, session.name or "", first)
    assert held["status"] == "awaiting_approval"
    # it shows up live (the page follows /v1/events), in the approval card's own words
    card = page.get_by_role("listitem", name="Waiting for your decision: send_template")
    expect(card).to_be_visible(timeout=WAIT)
    expect(card).to_contain_text(f"Send Mutual NDA to Rita Held <{first}>")
    assert server.emulator_envelopes(first) == []
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0, timeout=WAIT)
    expect(page.get_by_role("region", name="Waiting for you")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Mutual Non-Disclosure Agreement", timeout=WAIT)
    assert [e.status for e in server.emulator_envelopes(first)] == ["sent"]

    second = f"rita-{uuid.uuid4().hex[:6]}@example.com"
    _held_over_mcp(server, session.name or "", second)
    card = page.get_by_role("listitem", name="Waiting for your decision: send_template")
    expect(card).to_contain_text(second, timeout=WAIT)
    card.get_by_role("button", name="Reject").click()
    expect(card).to_have_count(0, timeout=WAIT)
    expect(page.get_by_role("status")).to_contain_text("nothing was done", timeout=WAIT)
    assert server.emulator_envelopes(second) == []
