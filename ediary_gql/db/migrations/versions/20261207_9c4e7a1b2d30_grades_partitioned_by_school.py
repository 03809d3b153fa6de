"""grades are hash-partitioned by school on PostgreSQL; grade history refers to (school, grade)

Revision ID: 9c4e7a1b2d30
Revises: e1f3a7c9b520
Create Date: 2026-12-07 15:30:00.000000

Grades already carry `school_id` (revision 5f1c0a9e7d21). On PostgreSQL the table is
rebuilt as `PARTITION BY HASH (school_id)` with 8 partitions (grades_p0 … _p7), as
attendance was: a new partitioned table is made like the old one, the rows copied in, the
old one dropped and the new one renamed; its sequence keeps counting. Its primary key
becomes (school_id, id) and the final-grade unique indexes take school_id too: PostgreSQL
wants the partition key in every unique index.

Grade history (`grade_revisions`) gets its grade's `school_id`, and its reference becomes
(school_id, grade_id) → grades (school_id, id), on both backends. On SQLite grades stay
plain: their primary key stays `id`, so they get the unique index `uq_grades_school_id_id`
for the reference to point at (db/partitioning.referable_key), and the final-grade
indexes are swapped for the ones with school_id.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c4e7a1b2d30'
down_revision: str | None = 'e1f3a7c9b520'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
MODULUS = 8
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COLUMNS = (
    'id, school_id, child_id, lesson_id, subject_id, class_id, period_id, kind, value, numeric_value,'
    ' control_type_id, weight, comment, teacher_id, graded_on, deleted_at, updated_at, created_at'
)
PERIOD_FINAL = "kind = 'PERIOD_FINAL' AND deleted_at IS NULL"
YEAR_FINAL = "kind = 'YEAR_FINAL' AND deleted_at IS NULL"
OLD_FINALS = (
    ('uq_grades_period_final', ['child_id', 'subject_id', 'period_id'], PERIOD_FINAL),
    ('uq_grades_year_final', ['child_id', 'subject_id', 'class_id'], YEAR_FINAL),
)
NEW_FINALS = tuple((name, [*columns, 'school_id'], where) for name, columns, where in OLD_FINALS)
OLD_REFERENCE = 'fk_grade_revisions_grade_id_grades'
NEW_REFERENCE = 'fk_grade_revisions_school_id_grades'
SQLITE_KEY = 'uq_grades_school_id_id'
FILL = 'UPDATE grade_revisions SET school_id = (SELECT g.school_id FROM grades g WHERE g.id = grade_revisions.grade_id)'


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys, indexes and references of grades, as the models make them."""
    pk = '(school_id, id)' if partitioned else '(id)'
    out = [f'ALTER TABLE grades ADD CONSTRAINT pk_grades PRIMARY KEY {pk}']
    for name, columns, where in NEW_FINALS if partitioned else OLD_FINALS:
        out.append(f'CREATE UNIQUE INDEX {name} ON grades ({", ".join(columns)}) WHERE {where}')
    for name, columns in (
        ('ix_grades_child_graded_on', 'child_id, graded_on'),
        ('ix_grades_child_subject_date', 'child_id, subject_id, graded_on'),
        ('ix_grades_class_subject_period', 'class_id, subject_id, period_id'),
        ('ix_grades_control_type_id', 'control_type_id'),
        ('ix_grades_lesson_id', 'lesson_id'),
        ('ix_grades_period_id', 'period_id'),
        ('ix_grades_school_id_graded_on', 'school_id, graded_on'),
        ('ix_grades_subject_id', 'subject_id'),
        ('ix_grades_teacher_id', 'teacher_id'),
    ):
        out.append(f'CREATE INDEX {name} ON grades ({columns})')
    if partitioned:  # a look-up by id alone (partitioning.by_id)
        out.append('CREATE INDEX ix_grades_id ON grades (id)')
    for column, table, rule in (
        ('child_id', 'children', 'RESTRICT'),
        ('class_id', 'school_classes', 'RESTRICT'),
        ('control_type_id', 'control_types', 'RESTRICT'),
        ('lesson_id', 'lessons', 'SET NULL'),
        ('period_id', 'periods', 'RESTRICT'),
        ('school_id', 'schools', 'RESTRICT'),
        ('subject_id', 'subjects', 'RESTRICT'),
        ('teacher_id', 'users', 'RESTRICT'),
    ):
        out.append(
            f'ALTER TABLE grades ADD CONSTRAINT fk_grades_{column}_{table}'
            f' FOREIGN KEY ({column}) REFERENCES {table} (id) ON DELETE {rule}'
        )
    if partitioned:
        out.append(
            f'ALTER TABLE grade_revisions ADD CONSTRAINT {NEW_REFERENCE}'
            ' FOREIGN KEY (school_id, grade_id) REFERENCES grades (school_id, id) ON DELETE CASCADE'
        )
    else:
        out.append(
            f'ALTER TABLE grade_revisions ADD CONSTRAINT {OLD_REFERENCE}'
            ' FOREIGN KEY (grade_id) REFERENCES grades (id) ON DELETE CASCADE'
        )
    return out


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make grades anew (partitioned or plain) with its rows, keys, references and sequence."""
    by = ' PARTITION BY HASH (school_id)' if partitioned else ''
    # The history's reference goes with the old table; it is made again below, to the new one.
    op.execute(f'ALTER TABLE grade_revisions DROP CONSTRAINT {OLD_REFERENCE if partitioned else NEW_REFERENCE}')
    # LIKE copies the columns (NOT NULL, the id's sequence default, created_at's and
    # updated_at's defaults) and the CHECKs; not the keys, indexes or references, which are
    # made below under the models' names.
    op.execute(f'CREATE TABLE grades_new (LIKE grades INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    for n in range(MODULUS if partitioned else 0):
        op.execute(
            f'CREATE TABLE grades_p{n} PARTITION OF grades_new FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})'
        )
    op.execute(f'INSERT INTO grades_new ({COLUMNS}) SELECT {COLUMNS} FROM grades')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE grades_id_seq OWNED BY NONE')
    op.execute('DROP TABLE grades')
    op.execute('ALTER TABLE grades_new RENAME TO grades')
    op.execute('ALTER SEQUENCE grades_id_seq OWNED BY grades.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)


def upgrade() -> None:
    with op.batch_alter_table('grade_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', BIG_ID, nullable=True))
    op.execute(FILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE grade_revisions ALTER COLUMN school_id SET NOT NULL')
        _rebuild_pg(partitioned=True)
        # Autovacuum analyzes the partitions, never the partitioned parent: the planner's
        # figures for the whole table come from here (and a later ANALYZE) only.
        op.execute('ANALYZE grades')
        return
    with op.batch_alter_table('grades', schema=None) as batch_op:
        for name, _, _ in OLD_FINALS:
            batch_op.drop_index(name)
        for name, columns, where in NEW_FINALS:
            batch_op.create_index(name, columns, unique=True, sqlite_where=sa.text(where))
        batch_op.create_index(SQLITE_KEY, ['school_id', 'id'], unique=True)
    with op.batch_alter_table('grade_revisions', schema=None) as batch_op:
        batch_op.alter_column('school_id', existing_type=BIG_ID, nullable=False)
        batch_op.drop_constraint(OLD_REFERENCE, type_='foreignkey')
        batch_op.create_foreign_key(
            NEW_REFERENCE, 'grades', ['school_id', 'grade_id'], ['school_id', 'id'], ondelete='CASCADE'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=False)
    else:
        with op.batch_alter_table('grade_revisions', schema=None) as batch_op:
            batch_op.drop_constraint(NEW_REFERENCE, type_='foreignkey')
            batch_op.create_foreign_key(OLD_REFERENCE, 'grades', ['grade_id'], ['id'], ondelete='CASCADE')
        with op.batch_alter_table('grades', schema=None) as batch_op:
            batch_op.drop_index(SQLITE_KEY)
            for name, _, _ in NEW_FINALS:
                batch_op.drop_index(name)
            for name, columns, where in OLD_FINALS:
                batch_op.create_index(name, columns, unique=True, sqlite_where=sa.text(where))
    with op.batch_alter_table('grade_revisions', schema=None) as batch_op:
        batch_op.drop_column('school_id')
