"""The offline model: a deterministic, rule-based planner served as an OpenAI-compatible Chat Completions API.

With no API key configured the agent talks to it through the same `ChatOpenAI` code path it uses for OpenAI,
either mounted by the server under `/_emulator/v1` or in-process through `httpx.ASGITransport`.
"""

from docusign_agent.settings import OFFLINE_MODEL

from .app import create_offline_model_app
from .planner import Plan, plan

__all__ = ["OFFLINE_MODEL", "Plan", "create_offline_model_app", "plan"]
