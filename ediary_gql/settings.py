"""Configuration from the environment, read once at start-up.

Every variable is validated here; a malformed value stops the process with a
message naming the variable instead of failing later on first use.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class SettingsError(RuntimeError):
    """Raised when the environment holds a value the server cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./ediary.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://…",
    )
    database_pool_size: int = Field(
        default=20, gt=0, le=500, description="PostgreSQL connections each server process keeps open"
    )
    database_max_overflow: int = Field(
        default=10, ge=0, le=500, description="Connections opened beyond the pool in a burst, closed after use"
    )
    broadcast_namespace: str = Field(
        default="", max_length=64, description="Prefix of every event channel, for deployments sharing one Redis"
    )
    broadcast_url: str = Field(default="memory://", description="Event bus: memory:// or redis://host:port/db")
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        min_length=32,
        description="Signing key for tokens; set it in production or tokens die with the process",
    )
    access_token_ttl_seconds: int = Field(default=900, gt=0, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, gt=0, le=365 * 86_400)
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, description="argon2id memory cost")
    upload_dir: Path = Field(default=Path("./uploads"))
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    upload_max_request_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="Largest multipart request body (all files and fields)"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: LogLevel = "INFO"
    log_json: bool = False
    page_max: int = Field(default=100, gt=0, le=1000, description="Largest page a connection returns")
    query_max_depth: int = Field(default=12, gt=0)
    query_max_aliases: int = Field(default=30, gt=0)
    query_max_tokens: int = Field(default=5000, gt=0)
    # --- the cost of a request (schema/cost.py) ---
    query_max_cost: int = Field(
        default=25_000, gt=0, le=10_000_000, description="Highest static cost of one operation; costlier are refused"
    )
    query_cost_budget: int = Field(
        default=250_000, ge=0, le=1_000_000_000, description="Cost points per viewer per window (0: no budget)"
    )
    query_cost_window_seconds: int = Field(
        default=60, gt=0, le=86_400, description="Time a spent budget takes to restore in full"
    )
    query_timeout_seconds: float = Field(
        default=5.0, gt=0, le=600, description="Longest a query may execute before it is cancelled"
    )
    request_max_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=1024**3, description="Largest request body that is not multipart"
    )
    ws_max_subscriptions: int = Field(default=20, gt=0)
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_max_unauthenticated_per_address: int = Field(
        default=20,
        ge=0,
        le=100_000,
        description="WebSockets one client address may hold open before authenticating, per process (0: no limit)",
    )
    subscriber_queue_size: int = Field(default=256, gt=0)
    sql_echo: bool = False

    # --- throttling of public workflows that send codes (services/rate_limits.py); 0: no limit ---
    # Generous per address: a school, an office or a mobile operator's NAT puts many people behind one.
    register_limit_per_address: int = Field(
        default=20, ge=0, description="Accounts registered from one client address within the window"
    )
    register_limit_window_seconds: int = Field(default=3600, gt=0, le=7 * 86_400)
    password_reset_limit_per_address: int = Field(
        default=20, ge=0, description="Password-reset requests from one client address within the window"
    )
    password_reset_limit_per_login: int = Field(
        default=5, ge=0, description="Password-reset requests for one phone or email within the window"
    )
    password_reset_limit_window_seconds: int = Field(default=3600, gt=0, le=7 * 86_400)

    # --- feedback tickets (services/feedback.py): tickets one user may file within the window; 0: no limit ---
    feedback_limit_per_user: int = Field(
        default=10, ge=0, description="Feedback tickets one user may submit within the window"
    )
    feedback_limit_window_seconds: int = Field(default=3600, gt=0, le=7 * 86_400)

    # --- messages (services/messaging.py): messages one user may send within the window; 0: no limit ---
    message_limit_per_user: int = Field(default=30, ge=0, description="Messages one user may send within the window")
    message_limit_window_seconds: int = Field(default=600, gt=0, le=7 * 86_400)

    # --- the event log (events/log.py) ---
    event_retention_days: float = Field(
        default=7.0, gt=0, le=366, description="Events older than this are pruned (ediary-gql events prune)"
    )

    # --- reminders of deadlines (services/reminders.py) ---
    reminders_enabled: bool = Field(default=True, description="Run the reminder scheduler in the server process")
    reminders_interval_seconds: float = Field(default=300.0, gt=0, le=86_400, description="Between scheduler runs")
    reminder_quiet_hours: str = Field(
        default="21:00-08:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="No reminders between these local times (the school's zone; Moscow for operators)",
    )
    feedback_reminder_lead_hours: float = Field(
        default=4.0, gt=0, le=24, description="Operators are reminded of a ticket this long before its deadline"
    )

    # --- notification delivery (services/delivery) ---
    dispatcher_enabled: bool = Field(default=True, description="Run the delivery dispatcher in the server process")
    dispatcher_poll_seconds: float = Field(default=1.0, gt=0, le=3600, description="Idle wait between due checks")
    dispatcher_batch_size: int = Field(default=20, gt=0, le=1000, description="Deliveries claimed at a time")
    dispatcher_concurrency: int = Field(default=4, gt=0, le=100, description="Sends in flight per dispatcher")
    delivery_max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts before a delivery FAILED")
    delivery_retry_base_seconds: float = Field(default=30.0, gt=0, description="First retry delay (then ×4)")
    delivery_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, description="Longest retry delay")
    delivery_send_timeout_seconds: float = Field(default=30.0, gt=0, le=600, description="One send, at most")
    smtp_host: str = Field(default="", description="SMTP server for email; empty: email goes to the dev outbox")
    smtp_port: int = Field(default=587, gt=0, le=65535)
    smtp_from: str = Field(default="Электронный дневник <noreply@localhost>", description="From: of emails")
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (usually port 587), tls (implicit, 465) or none"
    )
    sms_provider: Literal["dev"] = Field(default="dev", description="dev: SMS go to the development outbox")
    push_provider: Literal["dev"] = Field(default="dev", description="dev: pushes go to the development outbox")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            if value.startswith(("postgres://", "postgresql://")):
                # The usual form from hosting providers: pick the async driver for it.
                return "postgresql+asyncpg://" + value.split("://", 1)[1]
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("broadcast_url")
    @classmethod
    def _check_broadcast_url(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must be memory:// or redis://host:port/db")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str) -> str:
        from email.utils import parseaddr

        if "@" not in parseaddr(value)[1]:
            raise ValueError('must be an address, e.g. "Электронный дневник <noreply@school.example>"')
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check_cost_budget(self) -> Settings:
        if 0 < self.query_cost_budget < self.query_max_cost:
            raise ValueError(
                "QUERY_COST_BUDGET must be 0 (no budget) or at least QUERY_MAX_COST, "
                "or the costliest allowed query could never run"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
