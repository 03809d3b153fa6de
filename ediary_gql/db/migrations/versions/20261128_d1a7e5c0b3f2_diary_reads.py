"""diary reads

Revision ID: d1a7e5c0b3f2
Revises: fa6b56c1510d
Create Date: 2026-11-28 11:16:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = 'd1a7e5c0b3f2'
down_revision: str | None = 'fa6b56c1510d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a child's averages over a period in every subject (Child.averages)
    op.create_index('ix_grades_child_graded_on', 'grades', ['child_id', 'graded_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_grades_child_graded_on', table_name='grades')
