"""merge school setup and diary reads

Revision ID: 145c484ae209
Revises: 81948e98a479, d1a7e5c0b3f2
Create Date: 2026-11-28 11:59:52.914826
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ediary_gql.db.base


revision: str = '145c484ae209'
down_revision: str | None = ('81948e98a479', 'd1a7e5c0b3f2')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
