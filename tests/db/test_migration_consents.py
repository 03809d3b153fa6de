"""The consent-records migration: every account's single consent timestamp becomes a
record of the consent text's version, kept through a downgrade and an upgrade."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import downgrade, upgrade
from ediary_gql.db.models.identities import ConsentMethod, ConsentRecord
from ediary_gql.settings import Settings
from tests.factories import make_user

BEFORE = "7b8fa7b412c5"  # the revision before identities and consents


@pytest_asyncio.fixture
async def empty_url(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    if settings.is_sqlite:
        yield f"sqlite+aiosqlite:///{tmp_path / 'consents.db'}"
        return
    name = f"consents_{uuid.uuid4().hex[:10]}"
    admin = create_engine(str(make_url(settings.database_url).set(database="postgres")))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_each_consent_timestamp_becomes_a_record(empty_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_url)
    engine = create_engine(empty_url)
    try:
        async with create_session_factory(engine)() as session:
            consented = await make_user(session)
            never = await make_user(session, consent_at=None)
            given_at = consented.consent_at
            ids = (consented.id, never.id)
            await session.commit()
        await asyncio.to_thread(downgrade, empty_url, BEFORE)
        await asyncio.to_thread(upgrade, empty_url)
        async with create_session_factory(engine)() as session:
            records = list(await session.scalars(sa.select(ConsentRecord).where(ConsentRecord.user_id.in_(ids))))
        assert [(r.user_id, r.text_version, r.method, r.withdrawn_at) for r in records] == [
            (ids[0], "2026-01", ConsentMethod.MIGRATED, None)
        ]
        assert given_at is not None
        assert abs((records[0].given_at - given_at).total_seconds()) < 1
    finally:
        await engine.dispose()
