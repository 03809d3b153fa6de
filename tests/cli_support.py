"""What the command-line tests share: a throw-away SQLite database the CLI is pointed at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ediary_gql.settings import get_settings


@contextmanager
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[str]:
    """Point the CLI's settings at a fresh SQLite file (and `env`); its URL. The CLI
    reads settings once per process, so their cache is cleared on the way in and out."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BROADCAST_URL", "memory://")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-of-enough-length")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
