"""The graph's state: the conversation, and the user's preferences as this turn read them.

Which tool calls a person approved is deliberately not here: a client can write graph state (`POST
/threads/{id}/state`, a run's `command.update`), so approvals live in the server's approval record
(`db/approvals.py`), which only the gate writes and the tool node consumes.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import MessagesState


class AgentState(MessagesState):
    # The user's preferences as the model node read them this turn; the gate and the tool node use the same
    # values rather than asking the database again. Clients may not write them (`agent/guard.py`).
    preferences: dict[str, Any]
