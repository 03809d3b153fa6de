"""The container: docker-compose.yml's defaults meet the settings' rules, the Dockerfile's
command line starts the server as PID 1 would run it and stops it gracefully on SIGTERM,
and two migrations at once on a fresh PostgreSQL database both succeed (advisory lock)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ediary_gql.db.engine import create_engine
from ediary_gql.settings import Settings, load_settings
from tests.ops_support import command, running
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
SERVICE_HOSTS = {"db", "redis"}  # compose's service names: not reachable from here


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def _interpolated(value: str) -> str:
    """Compose's ${NAME:-default} with NAME unset: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _api_environment() -> dict[str, str]:
    environment = _compose()["services"]["api"]["environment"]
    return {name: _interpolated(str(value)) for name, value in environment.items()}


def _dockerfile_command() -> list[str]:
    """The image's command line: ENTRYPOINT + CMD, both of which must be exec form (JSON)."""
    argv: list[str] = []
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        instruction, _, rest = line.partition(" ")
        if instruction in ("ENTRYPOINT", "CMD"):
            parsed = json.loads(rest)  # shell form would leave `sh` as PID 1, deaf to SIGTERM
            assert isinstance(parsed, list), line
            argv = [*argv, *parsed] if instruction == "CMD" else parsed
    return argv


def test_compose_defaults_meet_the_settings_rules() -> None:
    environment = _api_environment()
    assert len(environment["SECRET_KEY"]) >= 32
    # the settings built from exactly that environment (nothing else of this machine's)
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(environment)
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert settings.secret_key == environment["SECRET_KEY"]
    assert settings.log_json is True
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert make_url(settings.database_url).host in SERVICE_HOSTS
    assert settings.broadcast_url.startswith("redis://")
    api = _compose()["services"]["api"]
    assert set(api["depends_on"]) == SERVICE_HOSTS
    assert "/healthz" in " ".join(api["healthcheck"]["test"])


def test_the_image_runs_its_server_without_a_shell() -> None:
    argv = _dockerfile_command()
    assert argv[:2] == ["ediary-gql", "serve"]
    assert "sh" not in argv
    assert "-c" not in argv
    assert argv[argv.index("--port") + 1] == "8000"


async def test_the_image_command_serves_and_stops_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    argv = _dockerfile_command()
    argv[argv.index("--port") + 1] = str(port)
    environment = _api_environment()
    # this test's own backends in place of compose's services
    environment |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'container.db'}",
        "BROADCAST_URL": "memory://",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    async with running(argv, environment, port, tmp_path / "logs") as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.post("/graphql", json={"query": "{ __typename }"})).json()["data"]
        started = time.monotonic()
        assert server.stop(timeout=20) == 0
        assert time.monotonic() - started < 15
    lines = server.lines()
    assert any("stopped" in line for line in lines)  # the lifespan's end ran: a graceful stop
    for line in lines:
        json.loads(line)  # LOG_JSON=true in compose: every line JSON


@pytest.fixture
async def fresh_database(settings: Settings) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped after."""
    if settings.is_sqlite:
        pytest.skip("advisory locks are PostgreSQL's")
    name = f"ediary_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(
        make_url(settings.database_url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_two_migrations_at_once_on_a_fresh_database_both_succeed(fresh_database: str, settings: Settings) -> None:
    environment = {**os.environ, "DATABASE_URL": fresh_database, "SECRET_KEY": settings.secret_key}

    async def migrate() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            *command(["ediary-gql", "migrate"]),
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 300)
        return proc.returncode or 0, output.decode()

    results = await asyncio.gather(migrate(), migrate())
    for code, output in results:
        assert code == 0, output
        assert "up to date" in output
    engine = create_engine(fresh_database)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    assert versions >= 1


def test_dockerfile_command_is_what_the_readme_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert shlex.join(_dockerfile_command()[:2]) in readme
    # nothing left of the shell form
    assert "sh -c" not in (ROOT / "Dockerfile").read_text(encoding="utf-8")
