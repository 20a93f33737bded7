"""What a tool knows about the call it serves: who, which conversation, and the process's services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from agent.services import Services, get_services


class MissingUser(Exception):
    pass


@dataclass(frozen=True)
class ToolContext:
    user_id: uuid.UUID
    thread_id: str | None
    run_id: str | None
    tool_call_id: str | None
    services: Services

    @classmethod
    async def from_config(cls, config: RunnableConfig | None, tool_call_id: str | None = None) -> ToolContext:
        configurable: dict[str, Any] = dict((config or {}).get("configurable") or {})
        services = await get_services()
        raw_user = configurable.get("user_id") or await services.default_user_id()
        try:
            user_id = uuid.UUID(str(raw_user))
        except ValueError:
            raise MissingUser(f"configurable.user_id {raw_user!r} is not a user id") from None
        return cls(
            user_id=user_id,
            thread_id=_str(configurable.get("thread_id")),
            run_id=_str(configurable.get("run_id")),
            tool_call_id=tool_call_id,
            services=services,
        )


def _str(value: object) -> str | None:
    return None if value is None else str(value)
