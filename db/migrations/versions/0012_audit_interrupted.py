"""Tool calls a dead process left unfinished: the audit status `interrupted`, and an index to find them.

A run killed mid-tool leaves its audit row `started`; the recovery that answers the call in the thread marks the
row `interrupted` (the append-only trigger already allows that one update from `started`). The partial index
keeps "which calls of this thread are still started?" cheap, since only unfinished calls are in it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD = ("started", "awaiting_approval", "succeeded", "failed", "rejected")
NEW = (*OLD, "interrupted")


def _check(values: tuple[str, ...]) -> None:
    quoted = ", ".join(f"'{v}'" for v in values)
    op.execute("ALTER TABLE audit_log DROP CONSTRAINT ck_audit_log_status_valid")
    op.execute(f"ALTER TABLE audit_log ADD CONSTRAINT ck_audit_log_status_valid CHECK (status IN ({quoted}))")


def upgrade() -> None:
    _check(NEW)
    op.execute("CREATE INDEX ix_audit_log_started_thread ON audit_log (thread_id) WHERE status = 'started'")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_audit_log_started_thread")
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute("UPDATE audit_log SET status = 'failed' WHERE status = 'interrupted'")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    _check(OLD)
