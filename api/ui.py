"""The chat UI's built files at `/`, with a single-page-app fallback that never hides an API route.

The build (committed under `api/static/ui/`, so `serve` needs no Node.js) is served by one catch-all GET route
added after every other route. It answers only what no API route matched:

- a file of the build: hashed files under `assets/` are cached for a year (`immutable`: their names change with
  their content), anything else is revalidated on every load (`no-cache` + ETag) so a new build shows at once;
- a path under an API prefix (the first segment of any other route: `threads`, `v1`, `_emulator`...): the API's
  JSON 404 (or 405 when the path exists for another method), exactly as without the UI;
- `/` itself, and any other path asked for by a browser (`Accept: text/html`): `index.html`, so a reload on a
  client-side URL such as `/t/<thread id>` opens the app there; everything else gets the JSON 404.

The page runs under a Content-Security-Policy that allows nothing outside this origin, so a reference to a CDN
or an external font would fail in every browser rather than quietly work online and break offline.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.routing import Match

STATIC_DIR = Path(__file__).resolve().parent / "static" / "ui"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
# Prefixes that belong to the API even before any route under them exists (the MCP and A2A endpoints, docs).
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
ALWAYS_API = {"docs", "redoc", "openapi.json", "mcp", "a2a", ".well-known", "metrics", "info", "ok"}


def install_ui(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Add the UI's catch-all route. Call it after every other route and mount has been added."""
    api_prefixes = ALWAYS_API | _first_segments(app)
    root = static_dir.resolve()

    async def serve_ui(request: Request, path: str = "") -> Response:
        first = path.split("/", 1)[0]
        if first in api_prefixes or request.method not in ("GET", "HEAD"):
            return _api_miss(app, request)
        file = _file(root, path)
        if file is not None:
            return _file_response(request, file, immutable=path.startswith("assets/"))
        accepts_html = path == "" or "text/html" in request.headers.get("accept", "")
        index = root / "index.html"
        if accepts_html and index.is_file() and "." not in path.rsplit("/", 1)[-1]:
            return _file_response(request, index, immutable=False)
        if accepts_html and not index.is_file() and path == "":
            message = "the chat UI is not built: run `npm ci && npm run build` in ui/"
            return JSONResponse({"error": "ui_not_built", "message": message, "detail": message}, status_code=404)
        return _api_miss(app, request)

    # Every method, so that a path no route knows still gets the API's 404 rather than a 405 from this route.
    app.add_api_route("/", serve_ui, methods=METHODS, include_in_schema=False, name="ui_index")
    app.add_api_route("/{path:path}", serve_ui, methods=METHODS, include_in_schema=False, name="ui")


def _first_segments(app: FastAPI) -> set[str]:
    segments = set()

    def walk(routes: list[object], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI keeps included routers whole
            if included is not None:
                context = getattr(route, "include_context", None)
                walk(included.routes, prefix + (getattr(context, "prefix", "") or "") + (included.prefix or ""))
                continue
            first = (prefix + (getattr(route, "path", "") or "")).lstrip("/").split("/", 1)[0]
            if first and not first.startswith("{"):
                segments.add(first)

    walk(list(app.router.routes), "")
    return segments


def _api_miss(app: FastAPI, request: Request) -> JSONResponse:
    """What the API said before the UI existed: 405 when the path exists for another method, else 404."""
    routes = [r for r in app.router.routes if getattr(r, "name", None) not in ("ui", "ui_index")]
    # RFC 9110: a 405 says which methods the path does take. Asked of the routes themselves, method by method,
    # since included routers (FastAPI keeps them whole) do not list their routes' methods.
    allowed = [method for method in METHODS
               if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)]
    if allowed:
        message = "Method Not Allowed"
        return JSONResponse({"error": "method_not_allowed", "message": message, "detail": message},
                            status_code=405, headers={"Allow": ", ".join(allowed)})
    message = "Not Found"
    return JSONResponse({"error": "not_found", "message": message, "detail": message}, status_code=404)


def _file(root: Path, path: str) -> Path | None:
    if not path or path.endswith("/"):
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


@lru_cache(maxsize=256)
def _etag(path: Path, mtime_ns: int, size: int) -> str:
    return '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:32] + '"'


def _file_response(request: Request, file: Path, *, immutable: bool) -> Response:
    stat = file.stat()
    etag = _etag(file, stat.st_mtime_ns, stat.st_size)
    headers = {"Cache-Control": IMMUTABLE if immutable else REVALIDATE, "ETag": etag}
    if file.suffix == ".html":
        headers.update(PAGE_HEADERS)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(file, headers=headers)
