"""A server process tunes its garbage collector once it has started (docusign_agent/gc_tuning.py).

The suite turns the tuning off for the apps it builds in one process (tests/conftest.py); this test turns it
on for one app, runs its startup, and puts the collector back as it was.
"""

from __future__ import annotations

import gc

from api.app import create_app
from docusign_agent.settings import Settings
from tests.api_helpers import runtime_options
from tests.conftest import role_urls, running_app


async def test_a_started_server_freezes_what_it_holds_and_collects_young_objects_less_often(
        settings: Settings) -> None:
    threshold = gc.get_threshold()
    before = gc.get_freeze_count()
    tuned = settings.model_copy(update={"gc_freeze_after_startup": True, "gc_gen0_threshold": 12_345})
    app = create_app(tuned, role_urls(str(tuned.database_url)), runtime_options=runtime_options())
    try:
        async with running_app(app) as client:
            assert gc.get_threshold()[0] == 12_345
            assert gc.get_freeze_count() > before  # the started app's objects are out of the collector's walks
            assert (await client.get("/ok")).status_code == 200
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


async def test_the_tuning_can_be_left_to_python(settings: Settings) -> None:
    threshold = gc.get_threshold()
    untouched = settings.model_copy(update={"gc_freeze_after_startup": False, "gc_gen0_threshold": 0})
    app = create_app(untouched, role_urls(str(untouched.database_url)), runtime_options=runtime_options())
    async with running_app(app):
        assert gc.get_threshold() == threshold
        assert gc.get_freeze_count() == 0
