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

from ediary_gql.events.cluster_backend import parse_cluster_url

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
    database_replica_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="PostgreSQL streaming replicas (comma-separated URLs) that serve read-only work (db/replicas.py)",
    )
    database_pooler: Literal["none", "pgbouncer"] = Field(
        default="none",
        description="pgbouncer: the URLs name a pgbouncer in transaction mode; no named prepared statements",
    )
    broadcast_namespace: str = Field(
        default="", max_length=64, description="Prefix of every event channel, for deployments sharing one Redis"
    )
    broadcast_url: str = Field(
        default="memory://",
        description="Event bus: memory://, redis://host:port/db, or a Redis Cluster as redis-cluster://host:port,host:port",
    )
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
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (besides the server's own and CORS_ORIGINS) that may open WebSockets; *: any",
    )
    graphiql_cdn: bool = Field(
        default=False, description="GraphiQL at /graphql loads its scripts from a public CDN, not from the package"
    )
    log_level: LogLevel = "INFO"
    log_json: bool = False
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics (keep it off the public network)"
    )
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
    ws_compression: bool = Field(
        default=False,
        description="permessage-deflate on WebSockets: events are small, and each socket's compressor "
        "costs about 64 KB of memory (ediary-gql serve)",
    )
    sql_echo: bool = False
    compiled_reads: bool = Field(
        default=True,
        description="On PostgreSQL, answer the diary graph's reads with JSON built by one SQL statement "
        "(schema/execution.py); false: always the ordinary resolvers",
    )

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
    # each portal sign-in started keeps a row until it expires: bounded per address
    oidc_login_limit_per_address: int = Field(
        default=30, ge=0, description="Portal sign-ins (/auth/oidc/login) started from one client address per window"
    )
    oidc_login_limit_window_seconds: int = Field(default=600, gt=0, le=86_400)

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
    event_backlog: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Live events kept per channel in each process; a subscriber further behind resumes from the log",
    )
    event_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often subscribers' processes read the log without a wake-up"
    )
    event_prune_interval_seconds: float = Field(
        default=3600.0, ge=0, description="How often a server process prunes the event log (0: never; use the job)"
    )

    # --- the audit trail's retention (services/audit_retention.py; monthly partitions on PostgreSQL) ---
    audit_retention_months: int = Field(
        default=60,
        ge=1,
        le=1200,
        description="Audit entries are kept for the current month and this many before it; older months are dropped",
    )
    audit_partitions_ahead: int = Field(
        default=3, ge=1, le=24, description="Monthly audit partitions made ahead of the current month"
    )
    audit_maintenance_interval_seconds: float = Field(
        default=86_400.0,
        ge=0,
        description="How often a server process keeps the audit partitions (0: never; use ediary-gql audit maintain)",
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

    # --- reports (services/reports): the queue and its worker ---
    reports_worker_enabled: bool = Field(default=True, description="Run the report worker in the server process")
    report_lease_seconds: float = Field(
        default=300.0, ge=10, le=86_400, description="A taken report is another worker's once this runs out"
    )
    report_max_attempts: int = Field(default=3, ge=1, le=20, description="Workers that may take a report up")
    report_file_ttl_hours: float = Field(
        default=168.0, gt=0, le=24 * 366, description="How long a ready report's file is kept"
    )
    report_poll_seconds: float = Field(default=5.0, gt=0, le=3600, description="Idle wait between queue checks")
    report_queue_limit: int = Field(
        default=5, ge=1, le=1000, description="Reports one user may have queued or running at once"
    )
    report_expiry_interval_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="How often a worker deletes the files of expired reports"
    )

    # --- integrations (services/integrations.py): service accounts, client credentials ---
    integration_token_ttl_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="Lifetime of an access token of POST /oauth/token"
    )
    integration_secret_grace_hours: float = Field(
        default=24.0, ge=0, le=24 * 90, description="How long a rotated client secret keeps working"
    )

    # --- sign-in with the portal (auth/oidc.py, routes/oidc.py) and consent (services/consents.py) ---
    oidc_issuer: str | None = Field(
        default=None, description="The OpenID provider's issuer URL; discovery is read from its /.well-known/"
    )
    oidc_client_id: str | None = Field(default=None, description="Our client ID at the provider")
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), description="Our client secret at the provider")
    oidc_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "profile", "email", "phone"],
        description="Scopes asked for, comma- or space-separated (openid is always one)",
    )
    oidc_redirect_uri: str | None = Field(
        default=None, description="Our /auth/oidc/callback as registered at the provider (default: this server's)"
    )
    oidc_return_url: str | None = Field(
        default=None,
        description="Where the browser flow sends the user with our tokens in the URL fragment; without it "
        "the callback answers them as JSON",
    )
    oidc_request_signer: str | None = Field(
        default=None, description='"module:factory" of a RequestSigner for a provider that signs its requests'
    )
    consent_text_version: str = Field(
        default="2026-01", min_length=1, max_length=32, description="Version of the consent text now in force"
    )

    # --- webhooks (services/webhooks): deliveries made from the change feed, and their sender ---
    webhooks_sender_enabled: bool = Field(
        default=True, description="Run the webhook relay and sender in the server process"
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Accept webhook URLs that resolve to loopback, private, link-local or multicast addresses "
        "(tests and local development only: it opens the server to SSRF)",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="A receiver's time to answer")
    webhook_max_attempts: int = Field(default=8, ge=1, le=30, description="Attempts at a delivery before it fails")
    webhook_retry_base_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="The first retry's delay; each next one is 4 times longer"
    )
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, le=86_400, description="The longest delay")
    webhook_disable_after_failures: int = Field(
        default=5, ge=1, le=1000, description="Deliveries failed for good in a row after which a webhook is disabled"
    )
    webhook_poll_seconds: float = Field(default=5.0, gt=0, le=3600, description="Idle wait between sender rounds")
    webhook_batch_size: int = Field(default=20, ge=1, le=500, description="Deliveries a sender takes per round")
    webhook_concurrency: int = Field(default=4, ge=1, le=100, description="Deliveries a sender sends at once")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return _database_url(value)

    @field_validator("database_replica_urls", mode="before")
    @classmethod
    def _split_replica_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_replica_urls")
    @classmethod
    def _check_replica_urls(cls, value: list[str]) -> list[str]:
        urls = [_database_url(url) for url in value]
        if any(url.startswith("sqlite") for url in urls):
            raise ValueError("replicas must be postgresql+asyncpg:// URLs")
        return urls

    @field_validator("broadcast_url")
    @classmethod
    def _check_broadcast_url(cls, value: str) -> str:
        if value.startswith(("redis-cluster://", "rediss-cluster://")):
            parse_cluster_url(value)  # a ValueError says what is wrong
        elif not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must be memory://, redis://host:port/db or redis-cluster://host:port,host:port")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str) -> str:
        from email.utils import parseaddr

        if "@" not in parseaddr(value)[1]:
            raise ValueError('must be an address, e.g. "Электронный дневник <noreply@school.example>"')
        return value

    @field_validator("cors_origins", "ws_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("oidc_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list) and "openid" not in value:
            value = ["openid", *value]
        return value

    @model_validator(mode="after")
    def _check_replicas(self) -> Settings:
        if self.database_replica_urls and self.is_sqlite:
            raise ValueError("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
        return self

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


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        if value.startswith(("postgres://", "postgresql://")):
            # The usual form from hosting providers: pick the async driver for it.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


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
