"""The hash-partitioned tables get an index on id alone (PostgreSQL)

A look-up by id (a node, a loader by id) does not know the partition key, which leads
the primary key; without this index it reads every partition's key index whole.

Revision ID: e1f3a7c9b520
Revises: a2e7c4d9f153
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = 'e1f3a7c9b520'
down_revision: str | None = 'a2e7c4d9f153'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('attendances', 'notifications')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # there id is the key itself
    for table in TABLES:
        op.create_index(f'ix_{table}_id', table, ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.drop_index(f'ix_{table}_id', table_name=table)
