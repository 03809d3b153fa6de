"""homework completions and attachments carry their homework's school

Revision ID: f4c8e2a6b913
Revises: d8b2f5a1c396
Create Date: 2026-12-07 17:00:00.000000

`homework_completions` and `homework_attachments` get `school_id` (→ schools, ON DELETE
RESTRICT), filled from their homework, so that every diary row reaches its school without a
join (docs/scaling.md "Partitioning"). Each is indexed by (school_id, homework_id): the
reference's index, and a school's rows by homework. The column is added nullable, filled,
then made NOT NULL; on SQLite through batch_alter_table (which rebuilds the table).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f4c8e2a6b913'
down_revision: str | None = 'd8b2f5a1c396'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# (table, its index on (school_id, homework_id))
TABLES = (
    ('homework_attachments', 'ix_homework_attachments_school_homework'),
    ('homework_completions', 'ix_homework_completions_school_homework'),
)


def _fill(table: str, *, postgresql: bool) -> str:
    if postgresql:
        return f'UPDATE {table} t SET school_id = h.school_id FROM homeworks h WHERE h.id = t.homework_id'  # noqa: S608 - fixed names
    return f'UPDATE {table} SET school_id = (SELECT h.school_id FROM homeworks h WHERE h.id = {table}.homework_id)'  # noqa: S608 - fixed names


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, index in TABLES:
        fk = f'fk_{table}_school_id_schools'
        if postgresql:
            op.add_column(table, sa.Column('school_id', BIG_ID, nullable=True))
            op.execute(_fill(table, postgresql=True))
            op.alter_column(table, 'school_id', existing_type=BIG_ID, nullable=False)
            op.create_foreign_key(fk, table, 'schools', ['school_id'], ['id'], ondelete='RESTRICT')
            op.create_index(index, table, ['school_id', 'homework_id'], unique=False)
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('school_id', BIG_ID, nullable=True))
        op.execute(_fill(table, postgresql=False))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('school_id', existing_type=BIG_ID, nullable=False)
            batch_op.create_foreign_key(fk, 'schools', ['school_id'], ['id'], ondelete='RESTRICT')
            batch_op.create_index(index, ['school_id', 'homework_id'], unique=False)


def downgrade() -> None:
    for table, index in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
            batch_op.drop_constraint(f'fk_{table}_school_id_schools', type_='foreignkey')
            batch_op.drop_column('school_id')
