"""The command line: migrate, users create, outbox — on a throw-away SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.services import person_names
from ediary_gql.settings import get_settings

runner = CliRunner()


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-of-enough-length")
    monkeypatch.setenv("PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "1024")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_migrate_creates_the_schema(db_file: Path) -> None:
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    tables = {r[0] for r in sqlite3.connect(db_file).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "schools", "lessons", "grades", "attendances", "alembic_version"} <= tables


def test_users_create_bootstraps_an_operator(db_file: Path) -> None:
    args = [
        "users",
        "create",
        "--last-name",
        "Петрова",
        "--first-name",
        "Ольга",
        "--email",
        "Olga@Example.ru",
        "--phone",
        "8 916 555-44-33",
        "--password-stdin",
        "--operator",
    ]
    result = runner.invoke(app, args, input="long-enough-pass\n")
    assert result.exit_code == 0, result.output
    assert "operator" in result.output
    row = sqlite3.connect(db_file).execute("SELECT email, phone, is_operator, status FROM users").fetchone()
    assert row == ("olga@example.ru", "+79165554433", 1, "CONFIRMED")

    again = runner.invoke(app, args, input="long-enough-pass\n")
    assert again.exit_code == 1
    assert "phone" in again.output
    assert "уже есть" in again.output


def test_users_create_reports_every_bad_field(db_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "--last-name",
            "",
            "--first-name",
            "Ольга",
            "--email",
            "not-an-email",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert result.exit_code == 1
    for field in ("lastName", "email", "password"):
        assert field in result.output


def _create_with_last_name(last_name: str) -> tuple[int, str]:
    args = ["users", "create", "--last-name", last_name, "--first-name", "Ольга"]
    result = runner.invoke(app, [*args, "--email", "olga@example.ru", "--password-stdin"], input="long-enough-pass\n")
    return result.exit_code, result.output


def test_users_create_takes_names_by_the_rule_of_every_workflow(db_file: Path) -> None:
    # a Latin name is refused with the message of registration, applications and imports
    code, output = _create_with_last_name("Smith")
    assert code == 1
    assert "lastName" in output
    assert person_names.INVALID_MESSAGE in " ".join(output.split())  # the console wraps long lines
    # a good one is stored tidied, as everywhere
    code, output = _create_with_last_name("  Петрова–Водкина ")
    assert code == 0, output
    assert sqlite3.connect(db_file).execute("SELECT last_name FROM users").fetchone() == ("Петрова-Водкина",)


def test_outbox_when_empty(db_file: Path) -> None:
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["outbox"])
    assert result.exit_code == 0
    assert "empty" in result.output


def test_bad_configuration_stops_with_the_variable_named(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADCAST_URL", "kafka://nope")
    get_settings.cache_clear()
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "BROADCAST_URL" in result.output
