"""`/v1` REST beside the agent: documents, preferences, API keys, the tool catalogue and the audit trail, one module
each."""

from fastapi import APIRouter

from api.v1 import audit, documents, keys, preferences, tools

router = APIRouter()
for part in (documents, preferences, keys, tools, audit):
    router.include_router(part.router)

__all__ = ["router"]
