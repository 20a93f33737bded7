"""The garbage collector of a server process, set for a long-lived process that allocates a lot per turn.

Every turn allocates thousands of short-lived objects (messages, dicts, events), and Python starts a
young-generation collection every 700 allocations net; each older collection then walks every object the
process keeps, and a server keeps a great many that never die: the modules of LangGraph, LangChain, OpenAI,
SQLAlchemy and FastAPI, compiled graphs, pools. Measured on the trivial graph at 32 conversations
(docs/BENCHMARKS.md, phase D): moving what exists after startup out of the collector's reach (`gc.freeze`)
and collecting the young generation every 20,000 allocations instead of 700 took a turn from 17 to 12-13 ms
of server CPU. Reference counting still frees almost everything at once; only garbage in cycles waits for the
next, rarer collection.
"""

from __future__ import annotations

import gc

from docusign_agent.settings import Settings


def tune_after_startup(settings: Settings) -> None:
    """Once per server process, when it is about to serve (not in a process that builds many apps)."""
    if settings.gc_gen0_threshold:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(settings.gc_gen0_threshold, max(gen1, 50), max(gen2, 100))
    if settings.gc_freeze_after_startup:
        gc.collect()  # what startup left as garbage is not frozen with the rest
        gc.freeze()
