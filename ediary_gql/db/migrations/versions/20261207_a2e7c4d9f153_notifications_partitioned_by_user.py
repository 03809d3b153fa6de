"""notifications are hash-partitioned by their recipient on PostgreSQL; deliveries carry it

Revision ID: a2e7c4d9f153
Revises: b5f8d1e6a274
Create Date: 2026-12-07 15:45:00.000000

The inbox is read by its user only, and users are held by no one school: on PostgreSQL
`notifications` is rebuilt as `PARTITION BY HASH (user_id)` with 8 partitions
(notifications_p0 … _p7), its primary key `(user_id, id)`, as the attendance migration
did it: a new partitioned table like the old one, the rows copied in, the old one dropped
and the new one renamed; its sequence keeps counting. The index on `(user_id, id)` is
the primary key there, so it is not made again.

Every delivery gets `user_id` (its notification's) and refers to its notification by
`(user_id, notification_id)` → `notifications (user_id, id)`, on both backends. On SQLite
the inbox stays a plain table; its index on `(user_id, id)` becomes unique, the parent
key that reference needs there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a2e7c4d9f153'
down_revision: str | None = 'b5f8d1e6a274'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
MODULUS = 8
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OLD_FK = 'fk_notification_deliveries_notification_id_notifications'
NEW_FK = 'fk_notification_deliveries_user_id_notifications'
DELIVERY_INDEX = 'ix_notification_deliveries_user_id_notification_id'
COLUMNS = 'id, user_id, kind, title, body, payload, read_at, created_at'
FILL = (
    'UPDATE notification_deliveries SET user_id ='
    ' (SELECT n.user_id FROM notifications n WHERE n.id = notification_deliveries.notification_id)'
)


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys, indexes and references of notifications, as the models make them."""
    out = [
        f'ALTER TABLE notifications ADD CONSTRAINT pk_notifications PRIMARY KEY {"(user_id, id)" if partitioned else "(id)"}',
        'CREATE INDEX ix_notifications_user_unread ON notifications (user_id, read_at, id)',
        'ALTER TABLE notifications ADD CONSTRAINT fk_notifications_user_id_users'
        ' FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE',
    ]
    if not partitioned:  # the primary key (user_id, id) is it when partitioned
        out.append('CREATE INDEX ix_notifications_user_id ON notifications (user_id, id)')
    return out


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make notifications anew (partitioned or plain) with its rows, keys and sequence."""
    by = ' PARTITION BY HASH (user_id)' if partitioned else ''
    # LIKE copies the columns (NOT NULL, the defaults, the id's sequence) and the CHECKs;
    # not the keys, indexes or references, which are made below under the models' names.
    op.execute(f'CREATE TABLE notifications_new (LIKE notifications INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    for n in range(MODULUS if partitioned else 0):
        op.execute(
            f'CREATE TABLE notifications_p{n} PARTITION OF notifications_new'
            f' FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})'
        )
    op.execute(f'INSERT INTO notifications_new ({COLUMNS}) SELECT {COLUMNS} FROM notifications')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE notifications_id_seq OWNED BY NONE')
    op.execute('DROP TABLE notifications')
    op.execute('ALTER TABLE notifications_new RENAME TO notifications')
    op.execute('ALTER SEQUENCE notifications_id_seq OWNED BY notifications.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)


def _upgrade_pg() -> None:
    # the deliveries' reference goes first: the table it refers to is replaced
    op.execute(f'ALTER TABLE notification_deliveries DROP CONSTRAINT {OLD_FK}')
    op.execute('ALTER TABLE notification_deliveries ADD COLUMN user_id BIGINT')
    op.execute(FILL)
    op.execute('ALTER TABLE notification_deliveries ALTER COLUMN user_id SET NOT NULL')
    _rebuild_pg(partitioned=True)
    op.execute(
        f'ALTER TABLE notification_deliveries ADD CONSTRAINT {NEW_FK} FOREIGN KEY (user_id, notification_id)'
        ' REFERENCES notifications (user_id, id) ON DELETE CASCADE'
    )
    op.execute(f'CREATE INDEX {DELIVERY_INDEX} ON notification_deliveries (user_id, notification_id)')
    # fresh tables have no statistics until autovacuum comes by: plan the first reads well
    op.execute('ANALYZE notifications')
    op.execute('ANALYZE notification_deliveries')


def _downgrade_pg() -> None:
    op.execute(f'DROP INDEX {DELIVERY_INDEX}')
    op.execute(f'ALTER TABLE notification_deliveries DROP CONSTRAINT {NEW_FK}')
    op.execute('ALTER TABLE notification_deliveries DROP COLUMN user_id')
    _rebuild_pg(partitioned=False)
    op.execute(
        f'ALTER TABLE notification_deliveries ADD CONSTRAINT {OLD_FK} FOREIGN KEY (notification_id)'
        ' REFERENCES notifications (id) ON DELETE CASCADE'
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _upgrade_pg()
        return
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id')
        batch_op.create_index('ix_notifications_user_id', ['user_id', 'id'], unique=True)
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', BIG_ID, nullable=True))
    op.execute(FILL)
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=BIG_ID, nullable=False)
        batch_op.drop_constraint(OLD_FK, type_='foreignkey')
        batch_op.create_foreign_key(
            NEW_FK, 'notifications', ['user_id', 'notification_id'], ['user_id', 'id'], ondelete='CASCADE'
        )
        batch_op.create_index(DELIVERY_INDEX, ['user_id', 'notification_id'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _downgrade_pg()
        return
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_index(DELIVERY_INDEX)
        batch_op.drop_constraint(NEW_FK, type_='foreignkey')
        batch_op.create_foreign_key(OLD_FK, 'notifications', ['notification_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('user_id')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id')
        batch_op.create_index('ix_notifications_user_id', ['user_id', 'id'], unique=False)
