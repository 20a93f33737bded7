"""Every agent tool, by name. The order is the order the model sees them in."""

from __future__ import annotations

from tools import analysis, bulk, documents, envelopes, memory, schedules, sending, signing, templates
from tools.base import ToolSpec

ALL: list[ToolSpec] = [
    *envelopes.SPECS[:2], *templates.SPECS, *documents.SPECS, *sending.SPECS, *envelopes.SPECS[2:],
    *signing.SPECS, *bulk.SPECS, *analysis.SPECS, *memory.SPECS,
    *schedules.SPECS,
]
BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in ALL}
