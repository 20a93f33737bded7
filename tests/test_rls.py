"""Row-level security under the non-owner app role and the webhook role, with hand-written SQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.models import USER_OWNED
from db.urls import APP_ROLE, RUNS_ROLE, WEBHOOK_ROLE, with_user
from tests.conftest import DatabaseFactory, backends

SEED = """
INSERT INTO profiles (id, email) VALUES (%(u)s, %(email)s);
INSERT INTO user_preferences (user_id) VALUES (%(u)s);
INSERT INTO api_credentials (user_id, account_id, docusign_user_id, base_uri, grant_type, access_token, key_id, expires_at)
  VALUES (%(u)s, 'acct', 'dsuser', 'http://x', 'jwt', '\\x00', 'k', now());
INSERT INTO api_keys (user_id, name, prefix, key_hash) VALUES (%(u)s, 'k', 'dsa_', md5(%(email)s) || md5(%(email)s));
INSERT INTO envelopes (id, user_id, envelope_id, account_id, status) VALUES (%(env)s, %(u)s, %(envid)s, 'acct', 'sent');
INSERT INTO recipients (envelope_pk, user_id, recipient_id, status) VALUES (%(env)s, %(u)s, '1', 'sent');
INSERT INTO documents (user_id, filename, size_bytes, content_hash) VALUES (%(u)s, 'a.pdf', 1, 'h');
INSERT INTO analysis_results (user_id, content_hash, kind, model, prompt_version, result)
  VALUES (%(u)s, 'h', 'summary', 'm', 'v1', '{}');
INSERT INTO bulk_operations (id, user_id, batch_name, template_id, total) VALUES (%(bulk)s, %(u)s, 'b', 't', 1);
INSERT INTO bulk_recipients (operation_id, user_id, row_number, name, email) VALUES (%(bulk)s, %(u)s, 1, 'n', 'e@x.com');
INSERT INTO audit_log (user_id, actor, operation, status) VALUES (%(u)s, 'agent', 'void_envelope', 'succeeded');
INSERT INTO webhook_events (dedupe_key, raw_body, user_id) VALUES (%(envid)s, '{}', %(u)s);
INSERT INTO threads (thread_id, user_id) VALUES (%(thread)s, %(u)s);
INSERT INTO runs (thread_id, user_id, assistant_id) VALUES (%(thread)s, %(u)s, 'agent');
INSERT INTO store_items (user_id, prefix, key, value) VALUES (%(u)s, 'memories.contacts', 'bob@x.com', '{}');
INSERT INTO store_vectors (user_id, prefix, key, field_name, embedding)
  VALUES (%(u)s, 'memories.contacts', 'bob@x.com', '$', '{1,0}');
INSERT INTO assistants (assistant_id, user_id, graph_id, name) VALUES (%(assistant)s, %(u)s, 'agent', 'formal');
INSERT INTO assistant_versions (assistant_id, version, user_id, graph_id, name)
  VALUES (%(assistant)s, 1, %(u)s, 'agent', 'formal');
INSERT INTO approvals (user_id, thread_id, tool_call_id, tool_name, args, args_digest, source)
  VALUES (%(u)s, %(thread)s, 'call_1', 'void_envelope', '{}', 'd', 'chat');
INSERT INTO crons (user_id, assistant_id, thread_id, schedule, next_run_date)
  VALUES (%(u)s, 'agent', %(thread)s, '0 9 * * 1', now());
"""


def seed(owner_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    users = (uuid.uuid4(), uuid.uuid4())
    with psycopg.connect(owner_url) as conn:
        for user in users:
            params = {"u": user, "email": f"{user}@example.com", "env": uuid.uuid4(),
                      "envid": str(uuid.uuid4()), "bulk": uuid.uuid4(), "thread": uuid.uuid4(),
                      "assistant": uuid.uuid4()}
            for statement in filter(str.strip, SEED.split(";\n")):
                conn.execute(statement, params)
    return users


def as_role(owner_url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(with_user(owner_url, role, None))


@pytest.fixture(params=backends())
def rls_db(request: pytest.FixtureRequest, db_factories: dict[str, DatabaseFactory]) -> tuple[str, uuid.UUID, uuid.UUID]:
    url = db_factories[request.param].create()
    a, b = seed(url)
    return url, a, b


def test_app_role_is_not_owner_and_cannot_bypass(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, _, _ = rls_db
    with as_role(url, APP_ROLE) as conn:
        superuser, bypass = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tableowner = current_user").fetchone()[0]
        assert (superuser, bypass, owned) == (False, False, 0)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE envelopes DISABLE ROW LEVEL SECURITY")


def test_user_sees_and_changes_only_own_rows(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, a, b = rls_db
    with as_role(url, APP_ROLE) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        for table, column in USER_OWNED.items():
            owners = {r[0] for r in conn.execute(f"SELECT {column} FROM {table}").fetchall()}  # no user filter
            assert owners == {a}, table
            # Writes aimed at B's rows touch nothing.
            cur = conn.execute(f"UPDATE {table} SET {column} = {column} WHERE {column} = %s", (b,)) \
                if table not in ("webhook_events",) else None
            if cur is not None:
                assert cur.rowcount == 0, table
        assert conn.execute("DELETE FROM documents WHERE user_id = %s", (b,)).rowcount == 0
        assert conn.execute("DELETE FROM api_credentials").rowcount == 1  # only A's own
        conn.rollback()


def test_app_cannot_insert_rows_for_another_user(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, a, b = rls_db
    with as_role(url, APP_ROLE) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO documents (user_id, filename, size_bytes, content_hash) VALUES (%s,'x',1,'h')", (b,))
        conn.rollback()  # also undoes set_config
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE documents SET user_id = %s", (b,))  # moving a row to B is refused too
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2


def test_no_user_set_sees_nothing(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, _, _ = rls_db
    with as_role(url, APP_ROLE) as conn:
        for table in USER_OWNED:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_webhook_role_updates_mirror_but_cannot_read_credentials(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, a, b = rls_db
    with as_role(url, WEBHOOK_ROLE) as conn:
        assert conn.execute("UPDATE envelopes SET status = 'completed'").rowcount == 2
        assert conn.execute("UPDATE recipients SET status = 'completed'").rowcount == 2
        assert conn.execute("UPDATE bulk_recipients SET status = 'completed'").rowcount == 2
        assert conn.execute("SELECT count(*) FROM profiles WHERE docusign_user_id IS NULL").fetchone()[0] == 2
        conn.commit()
        for forbidden in ("SELECT * FROM api_credentials", "SELECT * FROM api_keys", "SELECT * FROM documents",
                          "SELECT * FROM user_preferences", "SELECT email, display_name FROM profiles",
                          "DELETE FROM envelopes", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
            conn.rollback()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM envelopes WHERE status='completed'").fetchone()[0] == 2


def test_audit_log_is_append_only(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, a, _ = rls_db
    with as_role(url, APP_ROLE) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        row_id = conn.execute(
            "INSERT INTO audit_log (user_id, actor, operation, status) VALUES (%s,'agent','send','started') RETURNING id",
            (a,)).fetchone()[0]
        conn.execute("UPDATE audit_log SET status='succeeded', finished_at=now() WHERE id=%s", (row_id,))
        conn.commit()
        for statement in ("UPDATE audit_log SET status='failed' WHERE id=%s",
                          "UPDATE audit_log SET operation='other' WHERE id=%s",
                          "DELETE FROM audit_log WHERE id=%s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement, (row_id,))
            conn.rollback()
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        assert conn.execute("SELECT status, operation FROM audit_log WHERE id=%s", (row_id,)).fetchone() == (
            "succeeded", "send")


def test_store_items_of_one_user_are_invisible_to_another(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    """Both users hold `memories.contacts/bob@x.com` (seeded): each sees and changes only their own."""
    url, a, b = rls_db
    with as_role(url, APP_ROLE) as conn:
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(b),))
        conn.execute("UPDATE store_items SET value = '{\"who\": \"b\"}' WHERE prefix = 'memories.contacts'")
        conn.commit()
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        rows = conn.execute("SELECT user_id, value FROM store_items WHERE key = 'bob@x.com'").fetchall()
        assert rows == [(a, {})]
        assert conn.execute("DELETE FROM store_items WHERE user_id = %s", (b,)).rowcount == 0
        assert conn.execute("SELECT count(*) FROM store_vectors").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO store_items (user_id, prefix, key, value) VALUES (%s, 'x', 'y', '{}')", (b,))
        conn.rollback()
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE store_items SET user_id = %s", (b,))
    with psycopg.connect(url) as conn:
        assert dict(conn.execute("SELECT user_id, value FROM store_items").fetchall()) == {a: {}, b: {"who": "b"}}


RUN_FUNCTIONS = ("SELECT * FROM dsa_claim_runs(gen_random_uuid(), 10)", "SELECT * FROM dsa_sweep_runs(0)",
                 "SELECT * FROM dsa_heartbeat_runs(gen_random_uuid())", "SELECT dsa_sweep_store()")


def test_run_functions_are_the_run_workers_alone(rls_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    """The definer functions that act across users refuse the app role, with or without a user set."""
    url, a, _ = rls_db
    with as_role(url, APP_ROLE) as conn:
        for user in (None, a):
            for call in RUN_FUNCTIONS:
                if user is not None:
                    conn.execute("SELECT set_config('app.user_id', %s, false)", (str(user),))
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(call)
                conn.rollback()
    with psycopg.connect(url) as owner:  # nothing was claimed or swept
        assert owner.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall() == [("pending", 2)]
    with as_role(url, RUNS_ROLE) as conn:
        claimed = conn.execute("SELECT * FROM dsa_claim_runs(gen_random_uuid(), 10)").fetchall()
        assert len(claimed) == 2  # the run worker claims every user's due runs
        for forbidden in ("SELECT * FROM runs", "SELECT * FROM threads", "SELECT * FROM api_credentials",
                          "UPDATE runs SET status = 'error'"):
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # and can do nothing else
                conn.execute(forbidden)
