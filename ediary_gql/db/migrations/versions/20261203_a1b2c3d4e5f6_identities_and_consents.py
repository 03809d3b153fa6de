"""Identities at outside providers (OpenID Connect), consent records, one-use login states

Revision ID: a1b2c3d4e5f6
Revises: 7b8fa7b412c5
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ediary_gql.db.base


revision: str = 'a1b2c3d4e5f6'
down_revision: str | None = '7b8fa7b412c5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The consent text's version existing consents are recorded under (settings' default).
_DEFAULT_CONSENT_VERSION = "2026-01"


def upgrade() -> None:
    op.create_table('user_identities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('snils', sa.String(length=11), nullable=True),
    sa.Column('linked_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identities')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_user_identities_provider_subject'))
    )
    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_identities_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_identities_snils'), ['snils'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('given_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.Column('method', sa.Enum('FORM', 'PROVIDER', 'MIGRATED', name='consentmethod', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('withdrawn_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_user_id', ['user_id', 'given_at'], unique=False)

    op.create_table('oidc_logins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('state', sa.String(length=128), nullable=True),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=True),
    sa.Column('created_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', ediary_gql.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_logins')),
    sa.UniqueConstraint('nonce', name=op.f('uq_oidc_logins_nonce')),
    sa.UniqueConstraint('state', name=op.f('uq_oidc_logins_state'))
    )
    with op.batch_alter_table('oidc_logins', schema=None) as batch_op:
        batch_op.create_index('ix_oidc_logins_expires_at', ['expires_at'], unique=False)

    # The single consent timestamp of every existing account becomes a record of the
    # current text version (the address was never kept). users.consent_at stays.
    version = os.environ.get("CONSENT_TEXT_VERSION") or _DEFAULT_CONSENT_VERSION
    op.execute(
        sa.text(
            "INSERT INTO consent_records (user_id, text_version, given_at, method) "
            "SELECT id, :version, consent_at, 'MIGRATED' FROM users WHERE consent_at IS NOT NULL"
        ).bindparams(version=version[:32])
    )


def downgrade() -> None:
    with op.batch_alter_table('oidc_logins', schema=None) as batch_op:
        batch_op.drop_index('ix_oidc_logins_expires_at')
    op.drop_table('oidc_logins')

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_user_id')
    op.drop_table('consent_records')

    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_identities_snils'))
        batch_op.drop_index(batch_op.f('ix_user_identities_user_id'))
    op.drop_table('user_identities')
