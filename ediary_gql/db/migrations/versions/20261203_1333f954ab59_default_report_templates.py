"""default report templates for every school

Revision ID: 1333f954ab59
Revises: b2c3d4e5f6a7
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '1333f954ab59'
down_revision: str | None = 'b2c3d4e5f6a7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The built-in templates as they were when this ran (services/reports/template_spec.py
# DEFAULTS and DEFAULT_NAMES): a migration keeps its own copy, so that it does the same
# thing whenever it runs, whatever the defaults of the code become later.
# (kind, name, columns, group_by, include_comments, include_remarks)
DEFAULTS = (
    ('PROGRESS', 'Успеваемость (по умолчанию)', ['DATE', 'GRADE', 'CONTROL_TYPE', 'WEIGHT', 'TEACHER'], 'SUBJECT', True, True),
    ('ATTENDANCE', 'Посещаемость (по умолчанию)', ['DATE', 'SUBJECT', 'STATUS', 'MINUTES_LATE'], 'DATE', True, True),
)


def upgrade() -> None:
    # Every school gets the built-in template of each kind it has not got yet (until now
    # they were written on a school's first read of its templates). It is the school's
    # default of that kind unless the school made a default of its own; a template of the
    # school's own under the built-in name is kept as it is.
    schools = sa.table('schools', sa.column('id', sa.BigInteger))
    templates = sa.table(
        'report_templates',
        sa.column('school_id', sa.BigInteger),
        sa.column('created_by_id', sa.BigInteger),
        sa.column('kind', sa.String(18)),
        sa.column('name', sa.String(120)),
        sa.column('columns', sa.JSON),
        sa.column('group_by', sa.String(15)),
        sa.column('include_comments', sa.Boolean),
        sa.column('include_remarks', sa.Boolean),
        sa.column('is_default', sa.Boolean),
    )
    conn = op.get_bind()
    school_ids = [int(i) for i in conn.execute(sa.select(schools.c.id).order_by(schools.c.id)).scalars()]
    named: set[tuple[int, str, str]] = set()
    defaults: set[tuple[int, str]] = set()
    for school_id, kind, name, is_default in conn.execute(
        sa.select(templates.c.school_id, templates.c.kind, templates.c.name, templates.c.is_default)
    ):
        named.add((int(school_id), kind, name))
        if is_default:
            defaults.add((int(school_id), kind))
    rows = [
        {
            'school_id': school_id,
            'created_by_id': None,
            'kind': kind,
            'name': name,
            'columns': list(columns),
            'group_by': group_by,
            'include_comments': include_comments,
            'include_remarks': include_remarks,
            'is_default': (school_id, kind) not in defaults,
        }
        for school_id in school_ids
        for kind, name, columns, group_by, include_comments, include_remarks in DEFAULTS
        if (school_id, kind, name) not in named
    ]
    for start in range(0, len(rows), 1000):
        conn.execute(sa.insert(templates), rows[start:start + 1000])


def downgrade() -> None:
    # Data only: the rows stay (reports may name them, and a school may have changed them).
    pass
