"""`/v1` REST beside the agent: documents, preferences, API keys, the tool catalogue, the audit trail and held
approvals, one module each."""

from fastapi import APIRouter

from api.v1 import approvals, audit, documents, keys, preferences, tools

router = APIRouter()
for part in (documents, preferences, keys, tools, audit, approvals):
    router.include_router(part.router)

__all__ = ["router"]
