"""Connect events can be discarded by an administrator (`docusign-agent webhooks discard ID`).

A discarded event keeps its row (the raw body stays for the record, and its dedupe key still turns a
redelivery into a counted no-op), but leaves the lists of events needing attention.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD = ("pending", "applied", "duplicate", "failed", "parked", "unmatched")
NEW = (*OLD, "discarded")


def _check(values: tuple[str, ...]) -> None:
    quoted = ", ".join(f"'{v}'" for v in values)
    op.execute("ALTER TABLE webhook_events DROP CONSTRAINT ck_webhook_events_status_valid")
    op.execute(f"ALTER TABLE webhook_events ADD CONSTRAINT ck_webhook_events_status_valid CHECK (status IN ({quoted}))")


def upgrade() -> None:
    _check(NEW)


def downgrade() -> None:
    op.execute("UPDATE webhook_events SET status = 'failed' WHERE status = 'discarded'")
    _check(OLD)
