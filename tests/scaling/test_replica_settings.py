"""DATABASE_REPLICA_URLS and DATABASE_POOLER as the environment gives them."""

from __future__ import annotations

import pytest

from ediary_gql.settings import SettingsError, load_settings

PRIMARY = "postgresql+asyncpg://app@primary:5432/ediary"


def test_replica_urls_are_a_comma_separated_list() -> None:
    settings = load_settings(
        database_url=PRIMARY, database_replica_urls="postgres://app@r1:5432/ediary, postgresql+asyncpg://app@r2/ediary"
    )
    assert settings.database_replica_urls == [
        "postgresql+asyncpg://app@r1:5432/ediary",
        "postgresql+asyncpg://app@r2/ediary",
    ]
    assert load_settings(database_url=PRIMARY).database_replica_urls == []


def test_replicas_need_postgresql() -> None:
    with pytest.raises(SettingsError, match="DATABASE_REPLICA_URLS"):
        load_settings(database_url="sqlite+aiosqlite:///x.db", database_replica_urls="postgresql+asyncpg://r1/ediary")
    with pytest.raises(SettingsError, match="DATABASE_REPLICA_URLS"):
        load_settings(database_url=PRIMARY, database_replica_urls="sqlite+aiosqlite:///x.db")


def test_the_pooler_is_named() -> None:
    assert load_settings(database_url=PRIMARY).database_pooler == "none"
    assert load_settings(database_url=PRIMARY, database_pooler="pgbouncer").database_pooler == "pgbouncer"
    with pytest.raises(SettingsError, match="DATABASE_POOLER"):
        load_settings(database_url=PRIMARY, database_pooler="pgpool")
