"""The server's checkpoint saver passes LangGraph's own checkpointer conformance suite.

`PooledPostgresSaver` writes checkpoints its own way (one statement per call, see `agent/checkpointer.py`), so
it is held to the suite every checkpointer is (`langgraph-checkpoint-conformance`): put, pending writes, reads,
listing, deletion, copying and pruning, run as the server runs it: `dsa_app` under row security, acting for one
user. It runs twice: as the API's reads use the saver, and as a completed run's own saver does, answering
reads of the latest checkpoint from what it stored last (`remembering()`, trusted from the start here so that
every such read in the suite is answered from memory where it can be).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import pytest

from langgraph.checkpoint.conformance import checkpointer_test, validate

from agent.checkpointer import PooledPostgresSaver, make_checkpointer, open_pool
from db.urls import APP_ROLE, with_user
from tests.conftest import DatabaseFactory


@pytest.mark.parametrize("remembering", [False, True], ids=["reads", "run-memo"])
async def test_saver_passes_the_conformance_suite(db_factories: dict[str, DatabaseFactory],
                                                  main_backend: str, remembering: bool) -> None:
    app_url = with_user(db_factories[main_backend].create(), APP_ROLE, None)

    @checkpointer_test(name="PooledPostgresSaver")
    async def saver() -> AsyncGenerator[PooledPostgresSaver, None]:
        pool = open_pool(app_url, max_size=4)
        await pool.open()
        try:
            bound = make_checkpointer(pool).for_user(uuid.uuid4())
            if remembering:
                bound = bound.remembering()
                bound.trust_remembered()
            yield bound
        finally:
            await pool.close()

    report = await validate(saver)
    failures = {name: result.failures for name, result in report.results.items() if result.passed is False}
    assert not failures, failures
    assert {name for name, result in report.results.items() if result.passed} >= {
        "put", "put_writes", "get_tuple", "list", "delete_thread", "copy_thread"}
