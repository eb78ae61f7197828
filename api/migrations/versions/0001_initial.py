"""Initial schema: API keys and submissions.

Revision ID: 0001
Revises:
Create Date: 2024-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create both tables and their indexes."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("exercise", sa.String(100), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("full_report", sa.Text(), nullable=True),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_submissions_owner_idempotency"),
    )
    op.create_index("ix_submissions_owner_created", "submissions", ["owner", "created_at"])
    op.create_index("ix_submissions_status_created", "submissions", ["status", "created_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_submissions_status_created", table_name="submissions")
    op.drop_index("ix_submissions_owner_created", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("api_keys")
