"""lessons are hash-partitioned by school on PostgreSQL; references to a lesson name its school

Revision ID: d8b2f5a1c396
Revises: c7a9e3f2b485
Create Date: 2026-12-07 16:00:00.000000

Lessons carry `school_id` already. On PostgreSQL the table is rebuilt as `PARTITION BY
HASH (school_id)` with 8 partitions (lessons_p0 … _p7), as attendance and grades were: a
new partitioned table is made like the old one, the rows copied in, the old one dropped and
the new one renamed; its sequence keeps counting. Its primary key becomes (school_id, id),
the timetable's unique (class_id, date, start_time) takes school_id too (PostgreSQL wants
the partition key in every unique index), and each partition gets an index on id alone,
for the look-ups by a lesson's id that know no school.

Homework gets its lesson's `school_id`. The references into lessons become (school_id,
lesson_id) → lessons (school_id, id): attendance's and homework's ON DELETE CASCADE, on
both backends; grades' ON DELETE SET NULL (lesson_id) on PostgreSQL (15), which keeps the
grade's school. On SQLite lessons stay plain: they get the unique index
`uq_lessons_school_id_id` for the references to point at (db/partitioning.referable_key),
and grades keep their reference by the lesson's id (SQLite has no column list on SET NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd8b2f5a1c396'
down_revision: str | None = 'c7a9e3f2b485'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
MODULUS = 8
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COLUMNS = (
    'id, school_id, class_id, subject_id, teacher_id, date, start_time, end_time, lesson_number, room, topic,'
    ' status, substitute_teacher_id, template_id, external_id, updated_at, created_at'
)
OLD_UNIQUE = ('uq_lessons_class_id_date_start_time', ['class_id', 'date', 'start_time'])
NEW_UNIQUE = ('uq_lessons_class_id_date_start_time_school_id', ['class_id', 'date', 'start_time', 'school_id'])
EXTERNAL_UNIQUE = ('uq_lessons_school_id_external_id', ['school_id', 'external_id'])
SQLITE_KEY = 'uq_lessons_school_id_id'
# (table, old reference, new reference, the new one's ON DELETE on PostgreSQL)
REFERENCES = (
    ('attendances', 'fk_attendances_lesson_id_lessons', 'fk_attendances_school_id_lessons', 'CASCADE'),
    ('grades', 'fk_grades_lesson_id_lessons', 'fk_grades_school_id_lessons', 'SET NULL (lesson_id)'),
    ('homeworks', 'fk_homeworks_lesson_id_lessons', 'fk_homeworks_school_id_lessons', 'CASCADE'),
)
OLD_RULES = {'attendances': 'CASCADE', 'grades': 'SET NULL', 'homeworks': 'CASCADE'}
FILL = 'UPDATE homeworks SET school_id = (SELECT l.school_id FROM lessons l WHERE l.id = homeworks.lesson_id)'


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys, indexes and references of lessons, and those into it, as the models make them."""
    pk = '(school_id, id)' if partitioned else '(id)'
    out = [f'ALTER TABLE lessons ADD CONSTRAINT pk_lessons PRIMARY KEY {pk}']
    for name, columns in (NEW_UNIQUE if partitioned else OLD_UNIQUE, EXTERNAL_UNIQUE):
        out.append(f'ALTER TABLE lessons ADD CONSTRAINT {name} UNIQUE ({", ".join(columns)})')
    indexes = [
        ('ix_lessons_school_room_date', 'school_id, room, date'),
        ('ix_lessons_subject_class_date', 'subject_id, class_id, date'),
        ('ix_lessons_substitute_date', 'substitute_teacher_id, date'),
        ('ix_lessons_teacher_date', 'teacher_id, date, start_time'),
        ('ix_lessons_template_id', 'template_id'),
    ]
    if partitioned:
        indexes.append(('ix_lessons_id', 'id'))
    for name, columns in indexes:
        out.append(f'CREATE INDEX {name} ON lessons ({columns})')
    for column, table, rule in (
        ('class_id', 'school_classes', 'RESTRICT'),
        ('school_id', 'schools', 'RESTRICT'),
        ('subject_id', 'subjects', 'RESTRICT'),
        ('substitute_teacher_id', 'users', 'SET NULL'),
        ('teacher_id', 'users', 'RESTRICT'),
        ('template_id', 'timetable_templates', 'SET NULL'),
    ):
        out.append(
            f'ALTER TABLE lessons ADD CONSTRAINT fk_lessons_{column}_{table}'
            f' FOREIGN KEY ({column}) REFERENCES {table} (id) ON DELETE {rule}'
        )
    for table, old, new, rule in REFERENCES:
        if partitioned:
            out.append(
                f'ALTER TABLE {table} ADD CONSTRAINT {new}'
                f' FOREIGN KEY (school_id, lesson_id) REFERENCES lessons (school_id, id) ON DELETE {rule}'
            )
        else:
            out.append(
                f'ALTER TABLE {table} ADD CONSTRAINT {old}'
                f' FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE {OLD_RULES[table]}'
            )
    return out


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make lessons anew (partitioned or plain) with its rows, keys, references and sequence."""
    by = ' PARTITION BY HASH (school_id)' if partitioned else ''
    # The references into lessons go with the old table; they are made again below, to the new one.
    for table, old, new, _ in REFERENCES:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {old if partitioned else new}')
    # LIKE copies the columns (NOT NULL, the id's sequence default, created_at's and
    # updated_at's defaults) and the CHECKs; not the keys, indexes or references, which are
    # made below under the models' names.
    op.execute(f'CREATE TABLE lessons_new (LIKE lessons INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    for n in range(MODULUS if partitioned else 0):
        op.execute(
            f'CREATE TABLE lessons_p{n} PARTITION OF lessons_new FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})'
        )
    op.execute(f'INSERT INTO lessons_new ({COLUMNS}) SELECT {COLUMNS} FROM lessons')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE lessons_id_seq OWNED BY NONE')
    op.execute('DROP TABLE lessons')
    op.execute('ALTER TABLE lessons_new RENAME TO lessons')
    op.execute('ALTER SEQUENCE lessons_id_seq OWNED BY lessons.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)


def upgrade() -> None:
    with op.batch_alter_table('homeworks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', BIG_ID, nullable=True))
    op.execute(FILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE homeworks ALTER COLUMN school_id SET NOT NULL')
        _rebuild_pg(partitioned=True)
        # Autovacuum analyzes the partitions, never the partitioned parent: the planner's
        # figures for the whole table come from here (and a later ANALYZE) only.
        op.execute('ANALYZE lessons')
        return
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_constraint(OLD_UNIQUE[0], type_='unique')
        batch_op.create_unique_constraint(*NEW_UNIQUE)
        batch_op.create_index(SQLITE_KEY, ['school_id', 'id'], unique=True)
    with op.batch_alter_table('homeworks', schema=None) as batch_op:
        batch_op.alter_column('school_id', existing_type=BIG_ID, nullable=False)
    # grades keep their reference by the lesson's id on SQLite
    for table, old, new, rule in REFERENCES[::2]:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(old, type_='foreignkey')
            batch_op.create_foreign_key(new, 'lessons', ['school_id', 'lesson_id'], ['school_id', 'id'], ondelete=rule)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=False)
    else:
        for table, old, new, _ in REFERENCES[::2]:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(new, type_='foreignkey')
                batch_op.create_foreign_key(old, 'lessons', ['lesson_id'], ['id'], ondelete=OLD_RULES[table])
        with op.batch_alter_table('lessons', schema=None) as batch_op:
            batch_op.drop_index(SQLITE_KEY)
            batch_op.drop_constraint(NEW_UNIQUE[0], type_='unique')
            batch_op.create_unique_constraint(*OLD_UNIQUE)
    with op.batch_alter_table('homeworks', schema=None) as batch_op:
        batch_op.drop_column('school_id')
