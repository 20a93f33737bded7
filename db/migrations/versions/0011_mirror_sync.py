"""Reconciliation: when the mirror last asked DocuSign for status changes (`mirror_syncs`).

One row per DocuSign account and user: the time of the last poll (DocuSign allows one every 15 minutes) and
the `from_date` it asked from. Only the webhook role, which the reconciler runs as, may use it.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WEBHOOK = "dsa_webhook"


def upgrade() -> None:
    op.create_table(
        "mirror_syncs",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("docusign_user_id", sa.String(length=64), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelopes", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("account_id", "docusign_user_id", name=op.f("pk_mirror_syncs")),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON mirror_syncs TO {WEBHOOK}")


def downgrade() -> None:
    op.drop_table("mirror_syncs")
