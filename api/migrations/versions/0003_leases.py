"""Grading leases and dispatch times: the fleet's exactly-once bookkeeping.

``lease_owner`` and ``lease_expires_at`` say which grading process holds the running attempt
and until when; ``dispatched_at`` says when the submission was last handed to the queue
(``NULL`` while it is ``received`` but not yet queued). Existing ``running`` rows have no
lease, which the sweeper treats as expired: it queues them again, as a restart used to.

Revision ID: 0003
Revises: 0002
Create Date: 2024-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the lease and dispatch columns and the sweeper's index."""
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(120), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_submissions_status_lease", "submissions", ["status", "lease_expires_at"])
    # Rows queued before this revision were handed to the old in-process queue, now gone.
    op.execute(sa.text("UPDATE submissions SET dispatched_at = NULL WHERE status = 'queued'"))


def downgrade() -> None:
    """Drop them again; received rows count as queued for the old code."""
    op.execute(sa.text("UPDATE submissions SET status = 'queued' WHERE status = 'received'"))
    op.drop_index("ix_submissions_status_lease", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("dispatched_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
