"""The checkpoint tables under forced row security: a conversation's checkpoints are its owner's alone.

The rows are written the way the server writes them (the pooled saver acting for a user, as `dsa_app`), then
read and changed with hand-written SQL as `dsa_app` with no user and as another user.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from agent.checkpointer import make_checkpointer, open_pool
from db.migrate import CHECKPOINT_DATA, setup_checkpoints
from db.urls import APP_ROLE, with_user
from tests.conftest import DatabaseFactory, backends


async def write_conversation(app_url: str, user: uuid.UUID) -> str:
    """A thread with one checkpoint, its blobs and a pending write, saved by the saver acting for `user`."""
    pool = open_pool(app_url, max_size=2)
    await pool.open()
    try:
        saver = make_checkpointer(pool).for_user(user)
        thread_id = str(uuid.uuid4())
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"messages": ["hello"]}
        checkpoint["channel_versions"] = {"messages": saver.get_next_version(None, None)}
        config = await saver.aput({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}, checkpoint,
                                  {"source": "loop", "step": 0}, checkpoint["channel_versions"])
        await saver.aput_writes(config, [("messages", "pending")], task_id="task-1")
        assert (await saver.aget_tuple(config)) is not None  # the owner reads it back
        return thread_id
    finally:
        await pool.close()


@pytest.fixture(params=backends())
async def conversations(request: pytest.FixtureRequest,
                        db_factories: dict[str, DatabaseFactory]) -> tuple[str, uuid.UUID, uuid.UUID, str]:
    url = db_factories[request.param].create()
    a, b = uuid.uuid4(), uuid.uuid4()
    app_url = with_user(url, APP_ROLE, None)
    thread_a = await write_conversation(app_url, a)
    await write_conversation(app_url, b)
    return url, a, b, thread_a


def counts(conn: psycopg.Connection, where: str = "true") -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE {where}").fetchone()[0] for t in CHECKPOINT_DATA}


async def test_no_user_reads_and_changes_nothing(conversations: tuple[str, uuid.UUID, uuid.UUID, str]) -> None:
    url, a, b, _ = conversations
    with psycopg.connect(url) as owner:
        assert all(n >= 2 for n in counts(owner).values())  # both users' rows are there, with their owner
        assert counts(owner, "user_id IS NULL") == dict.fromkeys(CHECKPOINT_DATA, 0)
        before = counts(owner)
    with psycopg.connect(with_user(url, APP_ROLE, None)) as conn:
        assert counts(conn) == dict.fromkeys(CHECKPOINT_DATA, 0)
        for table in CHECKPOINT_DATA:
            assert conn.execute(f"UPDATE {table} SET checkpoint_ns = checkpoint_ns").rowcount == 0, table
            assert conn.execute(f"DELETE FROM {table}").rowcount == 0, table
        conn.commit()
    with psycopg.connect(url) as owner:
        assert counts(owner) == before


async def test_another_user_reads_and_changes_nothing(conversations: tuple[str, uuid.UUID, uuid.UUID, str]) -> None:
    url, a, b, thread_a = conversations
    with psycopg.connect(with_user(url, APP_ROLE, None)) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(b),))
        assert counts(conn, f"thread_id = '{thread_a}'") == dict.fromkeys(CHECKPOINT_DATA, 0)
        assert {r[0] for r in conn.execute("SELECT user_id FROM checkpoints").fetchall()} == {b}
        for table in CHECKPOINT_DATA:
            assert conn.execute(f"UPDATE {table} SET user_id = %s WHERE thread_id = %s",
                                (b, thread_a)).rowcount == 0, table
            assert conn.execute(f"DELETE FROM {table} WHERE thread_id = %s", (thread_a,)).rowcount == 0, table
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor write rows in A's name
            conn.execute("INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint, metadata, "
                         "user_id) VALUES (%s, '', 'x', '{}', '{}', %s)", (thread_a, a))
    # Through the saver, as the server reads: B's saver does not find A's thread.
    pool = open_pool(with_user(url, APP_ROLE, None), max_size=1)
    await pool.open()
    try:
        config = {"configurable": {"thread_id": thread_a, "checkpoint_ns": ""}}
        saver = make_checkpointer(pool)
        assert await saver.for_user(b).aget_tuple(config) is None
        assert await saver.aget_tuple(config) is None  # acting for nobody
        assert await saver.for_user(a).aget_tuple(config) is not None  # the same one connection, now for A
        assert await make_checkpointer(pool).for_user(b).aget_tuple(config) is None  # another saver, for B again
    finally:
        await pool.close()
    with psycopg.connect(url) as owner:
        assert owner.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_a,)).fetchone()[0] == 1


def test_setup_is_repeatable_and_adopts_older_rows(db_factories: dict[str, DatabaseFactory],
                                                   main_backend: str) -> None:
    """Rows written before the tables had owners belong to their thread's owner once setup runs again."""
    url = db_factories[main_backend].create()
    user, thread = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url) as owner:
        owner.execute("INSERT INTO profiles (id, email) VALUES (%s, %s)", (user, f"{user}@example.com"))
        owner.execute("INSERT INTO threads (thread_id, user_id) VALUES (%s, %s)", (thread, user))
        owner.execute("INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint, metadata, "
                      "user_id) VALUES (%s, '', 'c1', '{}', '{}', NULL)", (str(thread),))
    setup_checkpoints(url)
    with psycopg.connect(url) as owner:
        assert owner.execute("SELECT user_id FROM checkpoints WHERE thread_id = %s",
                             (str(thread),)).fetchone()[0] == user
