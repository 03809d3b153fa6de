"""default control types for every school

Revision ID: 5c7e1d2a9b01
Revises: 37a91b94236b
Create Date: 2026-12-02 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import ediary_gql.db.base


revision: str = '5c7e1d2a9b01'
down_revision: str | None = '37a91b94236b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The defaults as they were when this ran (services/school_setup/subjects.py
# DEFAULT_CONTROL_TYPES): a migration keeps its own copy, so that it does the same
# thing whenever it runs, whatever the defaults of the code become later.
DEFAULTS = (
    ('TEST', 'Контрольная работа', Decimal('2.00')),
    ('QUIZ', 'Самостоятельная работа', Decimal('1.50')),
    ('CHECK', 'Проверочная работа', Decimal('1.50')),
    ('ORAL', 'Устный ответ', Decimal('1.00')),
    ('HOMEWORK', 'Домашняя работа', Decimal('1.00')),
)


def upgrade() -> None:
    # Every school gets each default it has no control type of that code for; a school's
    # own type of the same code (its own name or weight) is kept as it is.
    schools = sa.table('schools', sa.column('id', sa.BigInteger))
    control_types = sa.table(
        'control_types',
        sa.column('school_id', sa.BigInteger),
        sa.column('code', sa.String(32)),
        sa.column('name', sa.String(100)),
        sa.column('weight', sa.Numeric(4, 2)),
    )
    for code, name, weight in DEFAULTS:
        has_it = sa.exists().where(control_types.c.school_id == schools.c.id, control_types.c.code == code)
        op.execute(
            sa.insert(control_types).from_select(
                ['school_id', 'code', 'name', 'weight'],
                sa.select(
                    schools.c.id,
                    sa.literal(code, sa.String(32)),
                    sa.literal(name, sa.String(100)),
                    sa.literal(weight, sa.Numeric(4, 2)),
                ).where(~has_it),
            )
        )


def downgrade() -> None:
    # Data only: the rows stay (grades may refer to them, and a school may have had them before).
    pass
