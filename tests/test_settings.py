"""Settings are read once from the environment; bad values name their variable."""

from __future__ import annotations

import pytest

from ediary_gql.settings import Settings, SettingsError, load_settings


def test_defaults_run_on_a_bare_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BROADCAST_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.broadcast_url == "memory://"
    assert settings.is_sqlite


def test_hosting_style_postgres_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/ediary")
    assert load_settings().database_url == "postgresql+asyncpg://u:p@db:5432/ediary"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/db"),
        ("BROADCAST_URL", "kafka://broker"),
        ("LOG_LEVEL", "VERBOSE"),
        ("ACCESS_TOKEN_TTL_SECONDS", "-5"),
        ("PAGE_MAX", "lots"),
        ("SECRET_KEY", "short"),
        ("WS_MAX_UNAUTHENTICATED_PER_ADDRESS", "-1"),
        ("QUERY_MAX_COST", "0"),
        ("QUERY_COST_BUDGET", "-1"),
        ("QUERY_COST_WINDOW_SECONDS", "0"),
        ("QUERY_TIMEOUT_SECONDS", "0"),
        ("REQUEST_MAX_BYTES", "100"),
    ],
)
def test_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_a_cost_budget_below_the_cost_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # the costliest query allowed could never run on it
    monkeypatch.setenv("QUERY_MAX_COST", "5000")
    monkeypatch.setenv("QUERY_COST_BUDGET", "4999")
    with pytest.raises(SettingsError, match="QUERY_COST_BUDGET"):
        load_settings()
    monkeypatch.setenv("QUERY_COST_BUDGET", "0")  # no budget at all
    assert load_settings().query_cost_budget == 0


def test_cors_origins_from_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]
