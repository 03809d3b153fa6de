"""Running Alembic migrations from code (the CLI, the app's first start, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# The PostgreSQL advisory lock that migrations run under (migrations/env.py): any fixed
# 64-bit number no other lock of the database uses
MIGRATION_LOCK_KEY = 0xED1A_6D16_2026


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # migrations named by date, so their order reads at a glance
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`. Blocking: call it from a thread
    when an event loop is running."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def make_revision(url: str, message: str, *, head: str = "head") -> None:
    """Autogenerate a migration from the models (for developers). With several heads,
    name the one to build on (`head=<revision>`) and upgrade the database to it first."""
    command.revision(alembic_config(url), message=message, autogenerate=True, head=head)
