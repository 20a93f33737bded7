"""DocuSign's error shape, so clients exercise the same error handling they will need in production.

Messages are DocuSign's own where we know them; the codes are the ones clients branch on.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

INVALID_PARAM = "The request contained at least one invalid parameter."


class DocuSignError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        return {"errorCode": self.code, "message": self.message}


def invalid_param(detail: str) -> DocuSignError:
    return DocuSignError("INVALID_REQUEST_PARAMETER", f"{INVALID_PARAM} {detail}")


def invalid_body(detail: str = "") -> DocuSignError:
    msg = "The request body is missing or improperly formatted."
    return DocuSignError("INVALID_REQUEST_BODY", f"{msg} {detail}".strip())


def envelope_not_found() -> DocuSignError:
    return DocuSignError(
        "ENVELOPE_DOES_NOT_EXIST", "The envelope specified either does not exist or you have no rights to it."
    )


def unknown_recipient() -> DocuSignError:
    return DocuSignError(
        "UNKNOWN_ENVELOPE_RECIPIENT",
        "The recipient you have identified is not a valid recipient of the specified envelope.",
    )


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """Parse the body ourselves so a malformed one gets DocuSign's error, not FastAPI's 422."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise invalid_body()
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_body(f"Invalid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise invalid_body("Expected a JSON object.")
    return data


def error_response(err: DocuSignError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def install_error_handlers(app: FastAPI) -> None:
    async def on_docusign(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DocuSignError)
        return error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return error_response(invalid_param(f"Invalid value for: {where}."))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            err = DocuSignError("RESOURCE_NOT_FOUND", "The URL provided does not resolve to a resource.", 404)
        elif exc.status_code == 405:
            err = DocuSignError("INVALID_REQUEST_METHOD", "The HTTP method is not supported here.", 405)
        else:
            err = DocuSignError("UNSPECIFIED_ERROR", str(exc.detail), exc.status_code)
        return error_response(err)

    app.add_exception_handler(DocuSignError, on_docusign)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
