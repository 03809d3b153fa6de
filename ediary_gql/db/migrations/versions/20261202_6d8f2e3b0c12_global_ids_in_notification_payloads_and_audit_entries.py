"""global IDs in notification payloads and audit entries

Revision ID: 6d8f2e3b0c12
Revises: 5c7e1d2a9b01
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '6d8f2e3b0c12'
down_revision: str | None = '5c7e1d2a9b01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows written so far name rows by their ids ({"applicationId": 5}, {"child_id": 4}); from
# now on services/public_ids.public writes global IDs under camelCase keys. This turns the
# stored rows into that shape with the same rules, for the keys those rows can hold. The
# migration keeps its own copy of the table (as every data migration here does): it must
# do the same thing whenever it runs, whatever the code's table becomes later, and db/
# imports nothing from services/. tests/db/test_migration_global_ids.py checks that it
# converts exactly as public_ids does.
ID_KEYS = {
    'academicYearId': 'AcademicYear',
    'applicationId': 'Application',
    'appointmentDocumentId': 'Attachment',
    'childId': 'Child',
    'childTransferId': 'ChildTransfer',
    'classId': 'SchoolClass',
    'controlTypeId': 'ControlType',
    'documentId': 'Attachment',
    'fromClassId': 'SchoolClass',
    'gradeId': 'Grade',
    'homeroomTeacherId': 'User',
    'homeworkId': 'Homework',
    'invitationId': 'TeacherInvitation',
    'lessonId': 'Lesson',
    'periodId': 'Period',
    'recordId': 'Child',
    'schoolId': 'School',
    'settlementId': 'Settlement',
    'staffBindingId': 'StaffBinding',
    'subjectId': 'Subject',
    'substituteTeacherId': 'User',
    'teacherId': 'User',
    'toClassId': 'SchoolClass',
    'userId': 'User',
}
ID_LIST_KEYS = {'attachments': 'Attachment'}
OWN_KEYS = frozenset({'id', 'ids'})
SNAKE = re.compile(r'[a-z][a-z0-9]*(?:_[a-z0-9]+)+')
BATCH = 1000


def _camel(key: str) -> str:
    if not SNAKE.fullmatch(key):
        return key
    head, *rest = key.split('_')
    return head + ''.join(part[:1].upper() + part[1:] for part in rest)


def _type_of(key: str, entity_type: str | None) -> str | None:
    if key in OWN_KEYS:
        return entity_type
    if key in ID_LIST_KEYS:
        return ID_LIST_KEYS[key]
    return ID_KEYS.get(key[:-1] if key.endswith('Ids') else key)


def _gid(type_name: str, value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return base64.b64encode(f'{type_name}:{value}'.encode()).decode()
    return value


def convert(value: Any, entity_type: str | None = None) -> Any:
    """A stored payload/before/after as clients now read it; anything else kept as it is."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for raw_key, item in value.items():
            key = _camel(raw_key) if isinstance(raw_key, str) else raw_key
            named = _type_of(key, entity_type) if isinstance(key, str) else None
            if named is None:
                out[key] = convert(item, entity_type)
            elif isinstance(item, list):
                out[key] = [_gid(named, x) for x in item]
            else:
                out[key] = _gid(named, item)
        return out
    if isinstance(value, list):
        return [convert(item, entity_type) for item in value]
    return value


def _rewrite(table: sa.TableClause, columns: Sequence[str], entity_type: sa.ColumnClause[Any] | None) -> None:
    """Each row of `table` whose `columns` change, rewritten; read by key in batches."""
    bind = op.get_bind()
    selected = [table.c.id, *(table.c[name] for name in columns)]
    if entity_type is not None:
        selected.append(entity_type)
    last = 0
    while True:
        rows = bind.execute(sa.select(*selected).where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = []
        for row in rows:
            kind = row[-1] if entity_type is not None else None
            values = {name: convert(row[n + 1], kind) for n, name in enumerate(columns)}
            if any(values[name] != row[n + 1] for n, name in enumerate(columns)):
                changed.append({'row_id': row[0], **{f'new_{name}': v for name, v in values.items()}})
        if changed:
            bind.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam('row_id'))
                .values({name: sa.bindparam(f'new_{name}') for name in columns}),
                changed,
            )
        last = rows[-1][0]


def upgrade() -> None:
    notifications = sa.table('notifications', sa.column('id', sa.BigInteger), sa.column('payload', sa.JSON))
    _rewrite(notifications, ['payload'], None)
    audit = sa.table(
        'audit_entries',
        sa.column('id', sa.BigInteger),
        sa.column('entity_type', sa.String),
        sa.column('before', sa.JSON),
        sa.column('after', sa.JSON),
    )
    _rewrite(audit, ['before', 'after'], audit.c.entity_type)


def downgrade() -> None:
    # Nothing to undo: the code before this revision only shows these values (nothing
    # reads an id back out of them), and global IDs are what clients should see anyway.
    pass
