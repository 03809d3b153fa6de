"""auth_sessions.wrote_lsn: read-your-writes across API processes

Revision ID: 8b3d6e2f4a10
Revises: 5f1c0a9e7d21
Create Date: 2026-12-03 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '8b3d6e2f4a10'
# to be chained after 5f1c0a9e7d21 once that migration is in
down_revision: str | None = '5f1c0a9e7d21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a constant default: PostgreSQL adds the column without rewriting the table
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wrote_lsn', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('wrote_lsn')
