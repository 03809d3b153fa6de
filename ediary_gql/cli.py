"""Command line: ediary-gql serve | migrate | seed | users create | outbox | applications | events | reminders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ediary_gql.auth.actor import SYSTEM_ACTOR
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.notifications import OutboxMessage
from ediary_gql.errors import DomainError
from ediary_gql.settings import Settings, SettingsError, get_settings

app = typer.Typer(help="ediary-gql: GraphQL API for an electronic school diary", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console()
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _with_session(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
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
            await load_directory(session)

    _with_session(settings, work)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest and load the regions/settlements directory."""
    settings = _settings()
    upgrade(settings.database_url)
    _load_directory(settings)
    console.print("Database is up to date.")


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="A believable demo school with logins")] = False,
    scale: Annotated[int, typer.Option("--scale", help="N schools of ~1,000 children for benchmarks")] = 0,
) -> None:
    """Fill the database with demo or benchmark data (migrates first)."""
    from ediary_gql.demo import seed_demo, seed_scale

    if not demo and not scale:
        raise typer.BadParameter("give --demo or --scale N")
    settings = _settings()
    upgrade(settings.database_url)
    _load_directory(settings)
    if demo:
        created = _with_session(settings, lambda f: seed_demo(f))
        console.print("Demo data created." if created else "Demo data already present.")
        _print_demo_logins()
    if scale:
        stats = _with_session(settings, lambda f: seed_scale(f, schools=scale, progress=console))
        console.print(f"Scale data: {stats}")


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
    """Run the API server (GraphiQL at /graphql)."""
    import uvicorn

    settings = _settings()
    upgrade(settings.database_url)
    _load_directory(settings)
    if demo:
        from ediary_gql.demo import seed_demo

        _with_session(settings, lambda f: seed_demo(f))
        _print_demo_logins()
    if workers > 1 and settings.broadcast_url.startswith("memory"):
        console.print("[yellow]BROADCAST_URL is memory://: events will not cross worker processes[/yellow]")
    console.print(f"GraphiQL: http://{host}:{port}/graphql   health: http://{host}:{port}/healthz")
    uvicorn.run(
        "ediary_gql.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@users_app.command("create")
def users_create(
    last_name: Annotated[str, typer.Option(help="Фамилия")],
    first_name: Annotated[str, typer.Option(help="Имя")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    phone: Annotated[str | None, typer.Option(help="Phone, e.g. +79991234567")] = None,
    email: Annotated[str | None, typer.Option(help="Email")] = None,
    middle_name: Annotated[str | None, typer.Option(help="Отчество")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="Give the portal operator role")] = False,
    confirmed: Annotated[bool, typer.Option(help="Create the account already confirmed")] = True,
) -> None:
    """Create a user (e.g. bootstrap the first operator)."""
    from ediary_gql.events.publish import take_events
    from ediary_gql.services.users import NewUser, create_user

    settings = _settings()
    upgrade(settings.database_url)
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
    """Drop events older than EVENT_RETENTION_DAYS from the log (run daily)."""
    import datetime as dt

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ediary_gql.db.base import utcnow
    from ediary_gql.events import log as event_log

    settings = _settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        await event_log.place(factory)  # what committed gets its position before the cut
        cut = utcnow() - dt.timedelta(days=settings.event_retention_days)
        return await event_log.prune(factory, older_than=cut)

    pruned = _with_session(settings, work)
    console.print(f"Pruned {pruned} event(s) older than {settings.event_retention_days:g} days.")


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
