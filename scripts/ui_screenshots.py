"""Regenerate docs/screenshots/*.png: the chat page in its main states, as a person sees it.

    uv run python scripts/ui_screenshots.py

Starts the product on embedded defaults in a temporary DATA_DIR and a free loopback port (nothing configured,
exactly like `serve`), drives headless chromium (/usr/bin/chromium) through a conversation, and writes:
light.png, dark.png (the desktop layout), approval.png (an approval card), envelopes.png (the live panel) and
narrow.png (390 px wide).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from api.app import create_app
from db.bootstrap import prepare
from docusign_agent.settings import load_settings

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--force-color-profile=srgb", "--hide-scrollbars"]
WAIT = 60_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(page: Page, text: str) -> None:
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible(timeout=WAIT)
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def _idle(page: Page) -> None:
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible(timeout=WAIT)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="dsa-screens-"))
    port = _port()
    settings = load_settings(data_dir=data_dir, port=port, host="127.0.0.1", _env_file=None)
    urls = prepare(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, urls), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(base)
            _say(page, "what templates do I have")
            _idle(page)
            _say(page, "send the NDA template to Bob Stone bob@example.com, cc legal@example.com")
            card = page.get_by_role("article", name="Approval needed: Send template")
            expect(card).to_be_visible(timeout=WAIT)
            card.screenshot(path=str(OUT / "approval.png"))
            card.get_by_role("button", name="Approve").click()
            _idle(page)
            _say(page, "send the Offer Letter template to Ann Lee ann@example.com")
            page.get_by_role("article", name="Approval needed: Send template").get_by_role("button", name="Approve").click()
            _idle(page)
            _say(page, "save the NDA template for Carol Jones carol@example.com as a draft")
            _idle(page)
            token = httpx.post(f"{base}/auth/local").json()["token"]
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
                sent = [e for e in http.get("/v1/envelopes").json()["envelopes"] if e["status"] == "sent"]
                nda = next(e for e in sent if "Non-Disclosure" in (e["email_subject"] or ""))
                httpx.post(f"{base}/_emulator/envelopes/{nda['envelope_id']}/sign", json={"recipient_id": "1"})
            expect(page.locator(".envelope .badge", has_text="Completed")).to_be_visible(timeout=WAIT)
            expect(page.locator(".envelope .badge", has_text="Draft")).to_be_visible(timeout=WAIT)
            page.locator(".notices").evaluate("n => n.remove()")
            page.screenshot(path=str(OUT / "light.png"))
            page.locator(".col-panel").screenshot(path=str(OUT / "envelopes.png"))
            page.evaluate("document.documentElement.dataset.theme = 'dark'")
            page.screenshot(path=str(OUT / "dark.png"))
            page.evaluate("document.documentElement.dataset.theme = 'light'")
            narrow = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            narrow.goto(page.url)
            expect(narrow.get_by_role("group", name="Tool Send template: Done").first).to_be_visible(timeout=WAIT)
            narrow.screenshot(path=str(OUT / "narrow.png"))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    print("\n".join(str(p) for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
