"""`/v1` REST beside the agent: documents, preferences, API keys and the tool catalogue, one module each."""

from fastapi import APIRouter

from api.v1 import documents, keys, preferences, tools

router = APIRouter()
for part in (documents, preferences, keys, tools):
    router.include_router(part.router)

__all__ = ["router"]
