"""`/v1` REST beside the agent: documents, preferences and API keys, one module each."""

from fastapi import APIRouter

from api.v1 import documents, keys, preferences

router = APIRouter()
for part in (documents, preferences, keys):
    router.include_router(part.router)

__all__ = ["router"]
