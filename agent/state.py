"""The graph's state: the conversation, and which tool calls a person has approved."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langgraph.graph import MessagesState


class AgentState(MessagesState):
    # Ids of tool calls a person approved. The tool node refuses an irreversible call whose id is not here,
    # so the gate cannot be skipped by any path through the graph.
    approved: Annotated[list[str], operator.add]
    # The user's preferences as the model node read them this turn; the gate and the tool node use the same
    # values rather than asking the database again.
    preferences: dict[str, Any]
