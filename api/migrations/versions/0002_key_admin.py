"""API keys get an ``admin`` flag (the operator view of the web page); false for every key.

Revision ID: 0002
Revises: 0001
Create Date: 2024-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``api_keys.admin``, false for the keys that exist."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop ``api_keys.admin``."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("admin")
