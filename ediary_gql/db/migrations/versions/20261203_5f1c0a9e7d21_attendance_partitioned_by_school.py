"""attendance carries its school and is hash-partitioned by it on PostgreSQL; grades carry theirs

Revision ID: 5f1c0a9e7d21
Revises: 1333f954ab59
Create Date: 2026-12-03 19:45:00.000000

Every mark gets `school_id` (its lesson's school), so that it reaches its school without
a join and every read of it names the partition key. On PostgreSQL the table is rebuilt
as `PARTITION BY HASH (school_id)` with 8 partitions (attendances_p0 … _p7): a new
partitioned table is made like the old one, the rows copied in, the old one dropped and
the new one renamed; its sequence keeps counting. On SQLite the table stays plain: the
column is only added and filled.

Grades get `school_id` too (their class's school), on both backends: the key they are
to be partitioned by next, and their way to their school without a join.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5f1c0a9e7d21'
down_revision: str | None = '1333f954ab59'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
MODULUS = 8
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OLD_UNIQUE = ('uq_attendances_child_id_lesson_id', ['child_id', 'lesson_id'])
NEW_UNIQUE = ('uq_attendances_child_id_lesson_id_school_id', ['child_id', 'lesson_id', 'school_id'])
FILL = 'UPDATE attendances SET school_id = (SELECT l.school_id FROM lessons l WHERE l.id = attendances.lesson_id)'


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys, indexes and references of attendances, as the models make them."""
    pk = '(school_id, id)' if partitioned else '(id)'
    name, columns = NEW_UNIQUE if partitioned else OLD_UNIQUE
    out = [
        f'ALTER TABLE attendances ADD CONSTRAINT pk_attendances PRIMARY KEY {pk}',
        f'ALTER TABLE attendances ADD CONSTRAINT {name} UNIQUE ({", ".join(columns)})',
        'CREATE INDEX ix_attendances_lesson_id ON attendances (lesson_id)',
        'CREATE INDEX ix_attendances_marked_by_id ON attendances (marked_by_id)',
        'ALTER TABLE attendances ADD CONSTRAINT fk_attendances_child_id_children'
        ' FOREIGN KEY (child_id) REFERENCES children (id) ON DELETE RESTRICT',
        'ALTER TABLE attendances ADD CONSTRAINT fk_attendances_lesson_id_lessons'
        ' FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE CASCADE',
        'ALTER TABLE attendances ADD CONSTRAINT fk_attendances_marked_by_id_users'
        ' FOREIGN KEY (marked_by_id) REFERENCES users (id) ON DELETE RESTRICT',
    ]
    if partitioned:
        out.append(
            'ALTER TABLE attendances ADD CONSTRAINT fk_attendances_school_id_schools'
            ' FOREIGN KEY (school_id) REFERENCES schools (id) ON DELETE RESTRICT'
        )
    return out


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make attendances anew (partitioned or plain) with its rows, keys and sequence."""
    columns = 'id, child_id, lesson_id, status, minutes_late, reason, marked_by_id, marked_at' + (
        ', school_id' if partitioned else ''
    )
    by = ' PARTITION BY HASH (school_id)' if partitioned else ''
    # LIKE copies the columns (NOT NULL, the id's sequence default) and the CHECKs; not
    # the keys, indexes or references, which are made below under the models' names.
    op.execute(f'CREATE TABLE attendances_new (LIKE attendances INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    if not partitioned:
        op.execute('ALTER TABLE attendances_new DROP COLUMN school_id')
    for n in range(MODULUS if partitioned else 0):
        op.execute(
            f'CREATE TABLE attendances_p{n} PARTITION OF attendances_new'
            f' FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})'
        )
    op.execute(f'INSERT INTO attendances_new ({columns}) SELECT {columns} FROM attendances')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE attendances_id_seq OWNED BY NONE')
    op.execute('DROP TABLE attendances')
    op.execute('ALTER TABLE attendances_new RENAME TO attendances')
    op.execute('ALTER SEQUENCE attendances_id_seq OWNED BY attendances.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)


def _grades_up() -> None:
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', BIG_ID, nullable=True))
    op.execute('UPDATE grades SET school_id = (SELECT c.school_id FROM school_classes c WHERE c.id = grades.class_id)')
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.alter_column('school_id', existing_type=BIG_ID, nullable=False)
        batch_op.create_foreign_key('fk_grades_school_id_schools', 'schools', ['school_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_index('ix_grades_school_id_graded_on', ['school_id', 'graded_on'], unique=False)


def _grades_down() -> None:
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_school_id_graded_on')
        batch_op.drop_constraint('fk_grades_school_id_schools', type_='foreignkey')
        batch_op.drop_column('school_id')


def upgrade() -> None:
    _grades_up()
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', BIG_ID, nullable=True))
    op.execute(FILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE attendances ALTER COLUMN school_id SET NOT NULL')
        _rebuild_pg(partitioned=True)
        # autovacuum never analyzes a partitioned parent: without this the planner has no
        # statistics for the copied rows and misjudges every join on attendances
        op.execute('ANALYZE attendances')
        return
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.alter_column('school_id', existing_type=BIG_ID, nullable=False)
        batch_op.drop_constraint(OLD_UNIQUE[0], type_='unique')
        batch_op.create_unique_constraint(*NEW_UNIQUE)
        batch_op.create_foreign_key(
            'fk_attendances_school_id_schools', 'schools', ['school_id'], ['id'], ondelete='RESTRICT'
        )


def downgrade() -> None:
    _grades_down()
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=False)
        return
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attendances_school_id_schools', type_='foreignkey')
        batch_op.drop_constraint(NEW_UNIQUE[0], type_='unique')
        batch_op.create_unique_constraint(*OLD_UNIQUE)
        batch_op.drop_column('school_id')
