"""The embedded signing ceremony: a small HTML page behind the recipient view URL.

It redirects to the integrator's returnUrl with DocuSign's `event` values so embedded-signing flows can be
tested end to end in a browser or with httpx.
"""

from __future__ import annotations

import time
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from emulator import workflow
from emulator.errors import DocuSignError
from emulator.pdf import combined_pdf
from emulator.runtime import Emulator, emulator_of, root_url
from emulator.state import Envelope, Recipient, ViewToken

router = APIRouter()


def _with_event(url: str, event: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({"event": event})


def _resolve(emu: Emulator, token: str) -> tuple[ViewToken, Envelope, Recipient] | None:
    view = emu.state.view_tokens.get(token)
    if view is None:
        return None
    env = emu.state.envelopes.get(view.envelope_id)
    if env is None:
        return None
    recipient = next((r for r in env.recipients if r.recipient_id == view.recipient_id), None)
    return (view, env, recipient) if recipient else None


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}</style></head>"
        f"<body>{body}</body></html>",
        status_code=status,
    )


@router.get("/signing/{token}")
async def signing_page(request: Request, token: str) -> Response:
    emu = emulator_of(request)
    found = _resolve(emu, token)
    if found is None:
        return _page("Link not valid", "<h1>This signing link is not valid.</h1>", 404)
    view, env, r = found
    if view.used or view.expires_at < time.time():
        return RedirectResponse(_with_event(view.return_url, "ttl_expired"), status_code=302)
    base = f"{root_url(request)}/signing/{token}"
    if (
        env.status in workflow.ACTIVE
        and r.status == "sent"
        and r.routing_order == workflow.pending_signer_order(env)
    ):
        workflow.deliver(emu, env, r)
        emu.changed()
    can_act = env.status in workflow.ACTIVE and r.status in workflow.ACTIVE and r.kind == "signer"
    actions = (
        f"<form method='post' action='{escape(base)}/sign'>"
        "<button id='sign' type='submit'>Finish (sign)</button></form>"
        f"<form method='post' action='{escape(base)}/decline'>"
        "<label>Reason <input name='reason' required></label>"
        "<button id='decline' type='submit'>Decline to sign</button></form>"
        if can_act
        else f"<p>Nothing to sign: the envelope is {escape(env.status)} and you are {escape(r.status)}.</p>"
    )
    body = (
        f"<h1>{escape(env.email_subject)}</h1>"
        f"<p>Signing as <b>{escape(r.name)}</b> &lt;{escape(r.email)}&gt;</p>"
        f"<p><a href='{escape(base)}/document'>Review the documents (PDF)</a>: "
        f"{escape(', '.join(d.name for d in env.documents))}</p>{actions}"
    )
    return _page("Sign: " + env.email_subject, body)


@router.get("/signing/{token}/document")
async def signing_document(request: Request, token: str) -> Response:
    found = _resolve(emulator_of(request), token)
    if found is None or found[0].used or found[0].expires_at < time.time():
        return _page("Link not valid", "<h1>This signing link is not valid.</h1>", 404)
    return Response(combined_pdf(found[1]), media_type="application/pdf")


async def _act(request: Request, token: str, action: str) -> Response:
    emu = emulator_of(request)
    found = _resolve(emu, token)
    if found is None:
        return _page("Link not valid", "<h1>This signing link is not valid.</h1>", 404)
    view, env, r = found
    if view.used or view.expires_at < time.time():
        return RedirectResponse(_with_event(view.return_url, "ttl_expired"), status_code=303)
    try:
        if action == "sign":
            workflow.sign(emu, env, r.recipient_id)
            event = "signing_complete"
        else:
            reason = str((await request.form()).get("reason") or "").strip() or "Declined on the signing page"
            workflow.decline(emu, env, r.recipient_id, reason)
            event = "decline"
    except DocuSignError as err:
        return _page("Cannot continue", f"<h1>Cannot continue</h1><p>{escape(err.message)}</p>", 400)
    view.used = True
    emu.changed()
    return RedirectResponse(_with_event(view.return_url, event), status_code=303)


@router.post("/signing/{token}/sign")
async def sign(request: Request, token: str) -> Response:
    return await _act(request, token, "sign")


@router.post("/signing/{token}/decline")
async def decline(request: Request, token: str) -> Response:
    return await _act(request, token, "decline")
