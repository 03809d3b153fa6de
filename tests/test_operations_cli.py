"""Running it as an operator: --version, passwords never on the command line, the seed's
progress bar, one clear line for an unreachable database, and whole JSON logs."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ediary_gql.cli import app
from tests.cli_support import cli_database
from tests.ops_support import command, running
from tests.support import free_port

runner = CliRunner()


def test_version() -> None:
    result = subprocess.run(command(["ediary-gql", "--version"]), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ediary-gql {version('ediary-gql')}"


def _user_args(email: str) -> list[str]:
    return ["users", "create", "--last-name", "Петрова", "--first-name", "Ольга", "--email", email]


def test_users_create_takes_the_password_from_stdin_or_a_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cli_database(tmp_path, monkeypatch, PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="1024"):
        piped = runner.invoke(app, [*_user_args("olga@example.ru"), "--password-stdin"], input="long-enough-pass\n")
        assert piped.exit_code == 0, piped.output
        assert "Created user" in piped.output
        # asked for, twice, hidden
        prompted = runner.invoke(app, _user_args("olga2@example.ru"), input="long-enough-pass\nlong-enough-pass\n")
        assert prompted.exit_code == 0, prompted.output
        assert "long-enough-pass" not in prompted.output
        # nothing piped in is no password
        empty = runner.invoke(app, [*_user_args("olga3@example.ru"), "--password-stdin"], input="")
        assert empty.exit_code == 2
        # the old flag is refused, and says what to do instead
        old = runner.invoke(app, [*_user_args("olga4@example.ru"), "--password", "long-enough-pass"])
        assert old.exit_code == 2
        said = " ".join(old.output.split())
        assert "--password is no longer accepted" in said
        assert "--password-stdin" in said


def test_seed_scale_shows_a_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cli_database(tmp_path, monkeypatch, PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="1024"):
        result = runner.invoke(app, ["seed", "--scale", "2", "--classes", "1", "--class-size", "2"])
    assert result.exit_code == 0, result.output
    assert "schools" in result.output
    assert "2/2" in result.output  # the bar's count, at its end
    assert "Scale data:" in result.output


def test_an_unreachable_database_at_start_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    environment = {"DATABASE_URL": url, "SECRET_KEY": "x" * 40, "BROADCAST_URL": "memory://"}
    for argv in (["ediary-gql", "serve", "--port", str(free_port())], ["ediary-gql", "migrate"]):
        result = subprocess.run(
            command(argv),
            env={"PATH": "/usr/bin:/bin", **environment},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert "Cannot reach the database" in lines[0]
        assert "Traceback" not in result.stderr


async def test_with_log_json_every_line_is_json_with_the_request_id(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
        "BROADCAST_URL": "memory://",
        "SECRET_KEY": "json-logs-secret-key-of-enough-length",
        "LOG_JSON": "true",
        "LOG_LEVEL": "DEBUG",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    argv = ["ediary-gql", "serve", "--port", str(port)]
    async with running(argv, environment, port, tmp_path / "out") as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            headers = {"x-request-id": "ops-json-probe"}
            await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
            await client.post("/graphql", json={"query": "{ nope"}, headers=headers)  # fails to parse
            await client.post("/graphql", json={"query": "query($d: Date!) { __typename }", "variables": {"d": 1}})
            await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
            await client.get("/no-such-page")
        assert server.stop() == 0
    lines = server.lines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not JSON: {line[:200]}")
    # uvicorn's own lines are there, as JSON
    assert any(r.get("logger", "").startswith("uvicorn") for r in records), records[:5]
    probe = [r for r in records if r.get("request_id") == "ops-json-probe"]
    assert any(r.get("event") == "graphql_error" for r in probe)
    assert any(r.get("event") == "request" for r in probe)
    assert all("event" in r and "level" in r and "timestamp" in r for r in records)
