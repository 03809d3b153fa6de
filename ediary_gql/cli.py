"""Command line: ediary-gql serve | migrate | seed | db | users create | outbox | applications | events |
audit | reminders | reports | webhooks."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

from ediary_gql.auth.actor import SYSTEM_ACTOR
from ediary_gql.db.analyze import analyze_partitioned
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import MIGRATION_LOCK_KEY, upgrade
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.notifications import OutboxMessage
from ediary_gql.errors import DomainError
from ediary_gql.settings import Settings, SettingsError, get_settings

app = typer.Typer(help="ediary-gql: GraphQL API for an electronic school diary", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console()
T = TypeVar("T")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ediary-gql {version('ediary-gql')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """ediary-gql: GraphQL API for an electronic school diary"""


def _upgrade(settings: Settings) -> None:
    """Migrate; a database that cannot be reached is one clear line and exit 1, not a traceback."""
    from ediary_gql.http_responses import database_unavailable

    try:
        upgrade(settings.database_url)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        from sqlalchemy.engine import make_url

        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        line = f"Cannot reach the database {where}: {type(exc).__name__}: {reason}"
        if settings.log_json:
            import structlog

            structlog.get_logger("ediary_gql.cli").error("database_unreachable", detail=line)
        else:
            console.print(f"[red]{line}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _with_session(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url, pooler=settings.database_pooler)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _load_directory(settings: Settings) -> None:
    """Regions and settlements shipped with the package (an idempotent upsert)."""
    from ediary_gql.services.directory import load_directory

    async def work(factory: Callable[[], object]) -> None:
        async with factory() as session, session.begin():  # type: ignore[attr-defined]
            if not settings.is_sqlite:
                # replicas starting together: one loads, the others then find it loaded
                await session.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
            await load_directory(session)

    _with_session(settings, work)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest and load the regions/settlements directory."""
    settings = _settings()
    _upgrade(settings)
    _load_directory(settings)
    console.print("Database is up to date.")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="A believable demo school with logins")] = False,
    scale: Annotated[int, typer.Option("--scale", help="N schools of ~1,000 children for benchmarks")] = 0,
    classes: Annotated[int, typer.Option("--classes", min=1, max=40, help="Classes per --scale school")] = 40,
    class_size: Annotated[int, typer.Option("--class-size", min=1, max=200, help="Children per class")] = 25,
) -> None:
    """Fill the database with demo or benchmark data (migrates first)."""
    from ediary_gql.demo import seed_scale

    if not demo and not scale:
        raise typer.BadParameter("give --demo or --scale N")
    settings = _settings()
    _upgrade(settings)
    _load_directory(settings)
    if demo:
        created = _seed_demo(settings)
        console.print("Demo data created." if created else "Demo data already present.")
        _print_demo_logins()
    if scale:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        stats: dict[str, int] = {}
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("schools", total=scale)
            for _ in range(scale):
                # one school per call: the bar moves as each one is committed
                made = _with_session(
                    settings,
                    lambda f: seed_scale(
                        f, schools=1, progress=bar.console, classes_per_school=classes, class_size=class_size
                    ),
                )
                for table, n in made.items():
                    stats[table] = stats.get(table, 0) + n
                bar.advance(task)
        console.print(f"Scale data: {stats}")


def _seed_demo(settings: Settings) -> bool:
    """The demo school (once); whether it was made now."""
    from ediary_gql.demo import seed_demo

    return _with_session(settings, lambda f: seed_demo(f))


db_app = typer.Typer(help="Database upkeep", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("analyze")
def db_analyze() -> None:
    """ANALYZE the partitioned tables, which autovacuum never does (run nightly and after bulk loads)."""
    done = _with_session(_settings(), analyze_partitioned)
    console.print(f"Analyzed {len(done)} partitioned table(s): {', '.join(done) or 'none'}.")


def _print_demo_logins() -> None:
    from ediary_gql.demo import DEMO_LOGINS, DEMO_PASSWORD

    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    table.add_column("role")
    table.add_column("login")
    table.add_column("who")
    for role, login, who in DEMO_LOGINS:
        table.add_row(role, login, who)
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Migrate and load demo data first")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (use Redis for the event bus)")] = 1,
) -> None:
    """Run the API server (GraphiQL at /graphql, the attendance dashboard at /dashboard)."""
    import uvicorn

    settings = _settings()
    if settings.log_json:
        from ediary_gql.log_config import configure_logging

        # every line JSON from the first: the migration's, uvicorn's (no text handlers of its own)
        configure_logging(settings.log_level, json=True)
    _upgrade(settings)
    _load_directory(settings)
    if demo:
        _seed_demo(settings)
        _print_demo_logins()
    if workers > 1 and settings.broadcast_url.startswith("memory"):
        _say(settings, "BROADCAST_URL is memory://: events will not cross worker processes", style="yellow")
    _say(settings, f"GraphiQL: http://{host}:{port}/graphql   health: http://{host}:{port}/healthz")
    _say(settings, f"Dashboard (live attendance): http://{host}:{port}/dashboard")
    # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again for the handler
    # it found: a no-op one makes that a normal end, exit 0 (what `docker stop` expects), not
    # death by the signal (143) or a KeyboardInterrupt traceback
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    uvicorn.run(
        "ediary_gql.app:create_app",
        log_config=None if settings.log_json else uvicorn.config.LOGGING_CONFIG,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        # thousands of idle subscriptions per process: no compressor per socket by default
        ws_per_message_deflate=settings.ws_compression,
    )


def _say(settings: Settings, text: str, *, style: str | None = None) -> None:
    """A line for the operator: a log line when logs are JSON (every line must be), else printed."""
    if settings.log_json:
        import structlog

        structlog.get_logger("ediary_gql.cli").info(text)
    else:
        console.print(f"[{style}]{text}[/{style}]" if style else text)


@users_app.command("create")
def users_create(
    last_name: Annotated[str, typer.Option(help="Фамилия")],
    first_name: Annotated[str, typer.Option(help="Имя")],
    phone: Annotated[str | None, typer.Option(help="Phone, e.g. +79991234567")] = None,
    email: Annotated[str | None, typer.Option(help="Email")] = None,
    middle_name: Annotated[str | None, typer.Option(help="Отчество")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="Give the portal operator role")] = False,
    confirmed: Annotated[bool, typer.Option(help="Create the account already confirmed")] = True,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (its first line)")
    ] = False,
    old_password: Annotated[str | None, typer.Option("--password", hidden=True)] = None,
) -> None:
    """Create a user (e.g. bootstrap the first operator). The password is asked for, or read
    from standard input with --password-stdin; never given on the command line, where other
    users of the machine and the shell's history could read it."""
    from ediary_gql.events.publish import take_events
    from ediary_gql.services.users import NewUser, create_user

    if old_password is not None:
        console.print(
            "[red]--password is no longer accepted: a password on the command line is visible to other users "
            "and kept in shell history. Type it at the prompt, or pipe it in with --password-stdin.[/red]"
        )
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            console.print("[red]--password-stdin: standard input gave no password[/red]")
            raise typer.Exit(2)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    _upgrade(settings)
    data = NewUser(
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        password=password,
        phone=phone,
        email=email,
        status=UserStatus.CONFIRMED if confirmed else UserStatus.TEMPORARY,
        is_operator=operator,
    )

    async def work(factory: Callable[[], object]) -> int:
        async with factory() as session, session.begin():  # type: ignore[attr-defined]
            user = await create_user(session, actor=SYSTEM_ACTOR, data=data)
            take_events(session)  # nobody can be subscribed to a user that did not exist
            return user.id

    try:
        user_id = _with_session(settings, work)
    except DomainError as exc:
        for err in exc.errors:
            console.print(f"[red]{'.'.join(err.field) or '-'}: {err.message} ({err.code})[/red]")
        raise typer.Exit(1) from None
    console.print(f"Created user {user_id}{' (operator)' if operator else ''}.")


outbox_app = typer.Typer(help="The development outbox, and the dispatcher that delivers notifications")
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option("--to", help="Only messages to this phone or email")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array on stdout (times in ISO 8601 with their offset)")
    ] = False,
    zone: Annotated[str, typer.Option("--tz", help="Show times in this IANA time zone, e.g. Europe/Moscow")] = "UTC",
) -> None:
    """Show what the development delivery channel "sent" (codes, notices); `outbox dispatch` sends."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        console.print(f"[red]Unknown time zone: {zone}[/red]")
        raise typer.Exit(2) from None
    settings = _settings()

    async def work(factory: Callable[[], object]) -> list[OutboxMessage]:
        from ediary_gql.services.contacts import looks_like_email, normalize_email, normalize_phone

        stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if to:
            try:
                address = normalize_email(to) if looks_like_email(to) else normalize_phone(to)
            except DomainError:
                address = to
            stmt = stmt.where(OutboxMessage.address == address)
        async with factory() as session:  # type: ignore[attr-defined]
            return list((await session.scalars(stmt)).all())

    messages = _with_session(settings, work)
    if as_json:
        # plain stdout, not rich: no wrapping or markup, so scripts can read it (`jq`)
        rows = [
            {
                "id": m.id,
                "createdAt": m.created_at.astimezone(tz).isoformat(),
                "channel": m.channel.value,
                "to": m.address,
                "subject": m.subject,
                "text": m.body,
            }
            for m in messages
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not messages:
        console.print("The outbox is empty.")
        return
    # the zone is part of the time: "2026-03-02 13:05:09+03:00 Europe/Moscow" or "…+00:00 UTC"
    whens = [f"{m.created_at.astimezone(tz).isoformat(sep=' ', timespec='seconds')} {zone}" for m in messages]
    table = Table(title="Outbox (development channel)")
    table.add_column("when", no_wrap=True, min_width=max(map(len, whens)))  # a time is never cut
    for column in ("channel", "to", "subject", "text"):
        table.add_column(column)
    for when, m in zip(whens, messages, strict=True):
        table.add_row(when, m.channel.value, m.address, m.subject, m.body)
    console.print(table)


@outbox_app.command("dispatch")
def outbox_dispatch(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit")] = False,
) -> None:
    """Send queued notifications (email, SMS, push) with retries, until stopped (Ctrl+C)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.services.delivery import Dispatcher, DispatchReport
    from ediary_gql.services.delivery.runner import run_until_signalled

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> DispatchReport:
        if once:
            return await Dispatcher.from_settings(settings, factory).drain()
        console.print("Dispatching notification deliveries; Ctrl+C stops.")
        await run_until_signalled(settings, factory)
        return DispatchReport()

    report = _with_session(settings, work)
    if once:
        console.print(f"Sent {report.sent}, to retry {report.retrying}, failed {report.failed}.")


applications_app = typer.Typer(help="Parents' applications for diary access", no_args_is_help=True)
app.add_typer(applications_app, name="applications")


@applications_app.command("remind-overdue")
def applications_remind_overdue() -> None:
    """Tell each school's admins which applications are past their due date (run daily)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.events.bus import EventBus
    from ediary_gql.events.publish import unit_of_work
    from ediary_gql.services.applications.notices import notify_overdue

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        bus = EventBus(settings.broadcast_url, namespace=settings.broadcast_namespace)
        await bus.connect()
        try:
            async with unit_of_work(factory, bus) as session:
                return await notify_overdue(session)
        finally:
            await bus.disconnect()

    sent = _with_session(settings, work)
    console.print(f"Sent {sent} overdue reminder(s).")


events_app = typer.Typer(help="The event log", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("prune")
def events_prune() -> None:
    """Drop events older than EVENT_RETENTION_DAYS from the log (whole days on PostgreSQL; run daily)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.events.retention import prune_expired

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        return await prune_expired(factory, retention_days=settings.event_retention_days)

    pruned = _with_session(settings, work)
    console.print(f"Pruned {pruned} event(s) older than {settings.event_retention_days:g} days.")


audit_app = typer.Typer(help="The audit trail", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("maintain")
def audit_maintain() -> None:
    """Make the audit partitions of the months ahead, drop months past AUDIT_RETENTION_MONTHS (run daily)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.db.partitioning import MonthsKept
    from ediary_gql.services.audit_retention import maintain

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> MonthsKept:
        return await maintain(
            factory, retention_months=settings.audit_retention_months, ahead=settings.audit_partitions_ahead
        )

    kept = _with_session(settings, work)
    console.print(f"Made {len(kept.made)} partition(s): {', '.join(kept.made) or 'none'}.")
    console.print(f"Dropped {len(kept.dropped)} partition(s): {', '.join(kept.dropped) or 'none'}.")
    console.print(f"Deleted {kept.rows_deleted} entry(ies) older than {settings.audit_retention_months} month(s).")


reminders_app = typer.Typer(help="Reminders of approaching deadlines", no_args_is_help=True)
app.add_typer(reminders_app, name="reminders")


@reminders_app.command("run")
def reminders_run() -> None:
    """Send the reminders due now, each once (safe from cron and beside running servers)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.events.bus import EventBus
    from ediary_gql.services.reminders import RunReport, run_once

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> RunReport:
        bus = EventBus(settings.broadcast_url, namespace=settings.broadcast_namespace)
        await bus.connect()
        try:
            return await run_once(factory, bus, settings)
        finally:
            await bus.disconnect()

    report = _with_session(settings, work)
    sent = ", ".join(f"{kind.value} {count}" for kind, count in sorted(report.sent.items())) or "none"
    console.print(f"Sent {report.total} reminder(s): {sent}.")
    if report.held_zones:
        console.print(f"Held for the quiet hours in: {', '.join(sorted(report.held_zones))}.")


reports_app = typer.Typer(
    help="Reports: the worker that makes them, and the expiry of their files", no_args_is_help=True
)
app.add_typer(reports_app, name="reports")


@reports_app.command("work")
def reports_work(
    once: Annotated[bool, typer.Option("--once", help="Make the reports queued now, then exit")] = False,
) -> None:
    """Make queued reports (several workers may share the queue), until stopped (Ctrl+C, SIGTERM)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.services.reports.runner import run_once, run_until_signalled

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        if once:
            return await run_once(settings, factory)
        console.print("Making queued reports; Ctrl+C stops.")
        await run_until_signalled(settings, factory)
        return 0

    finished = _with_session(settings, work)
    if once:
        console.print(f"Finished {finished} report(s).")


@reports_app.command("expire")
def reports_expire() -> None:
    """Delete the files of reports past REPORT_FILE_TTL_HOURS (the worker does it too; safe from cron)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.services.reports.runner import expire

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        return await expire(settings, factory)

    expired = _with_session(settings, work)
    console.print(f"Expired {expired} report file(s).")


webhooks_app = typer.Typer(help="Webhooks: the sender that relays the change feed to receivers", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("send")
def webhooks_send(
    once: Annotated[bool, typer.Option("--once", help="Relay and send what is due now, then exit")] = False,
) -> None:
    """Relay committed changes to webhooks and send the deliveries, with retries, until stopped (Ctrl+C, SIGTERM)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.services.delivery import DispatchReport
    from ediary_gql.services.webhooks.runner import run_once, run_until_signalled

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> DispatchReport:
        if once:
            return await run_once(settings, factory)
        console.print("Sending webhook deliveries; Ctrl+C stops.")
        await run_until_signalled(settings, factory)
        return DispatchReport()

    report = _with_session(settings, work)
    if once:
        console.print(f"Sent {report.sent}, to retry {report.retrying}, failed {report.failed}.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
