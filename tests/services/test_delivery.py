"""Notification delivery: a real SMTP server, the development outbox and its command
line, retries with backoff, giving up, concurrent dispatchers, the background task."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.app import create_app
from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import Channel, DeliveryStatus, NotificationKind, UserStatus
from ediary_gql.db.models.notifications import NotificationDelivery, OutboxMessage
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels as event_channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.delivery import (
    DeliveryChannel,
    DevOutboxChannel,
    Dispatcher,
    PreferenceChange,
    RetryPolicy,
    SmtpChannel,
    build_channels,
    update_preferences,
)
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings, SettingsError, load_settings
from tests.factories import make_user
from tests.support import free_port, wait_on_bus

SENDER = "Электронный дневник <noreply@ediary.test>"


class Boom(Exception):
    pass


# --- a real SMTP server (aiosmtpd) in this event loop ---------------------------------


@dataclass
class SmtpSink:
    """Accepts mail on 127.0.0.1:port; `refuse_rcpt` answers RCPT with that reply instead."""

    port: int
    received: list[Envelope] = field(default_factory=list)
    refuse_rcpt: str | None = None
    _server: asyncio.Server | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="sink.test"), "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)  # type: ignore[misc]
            for e in self.received
        ]


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = SmtpSink(port=free_port())
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def closed_port() -> AsyncIterator[SmtpSink]:
    """A port where no SMTP server listens (yet): `await it.start()` brings one up."""
    server = SmtpSink(port=free_port())
    yield server
    await server.stop()


# --- helpers ----------------------------------------------------------------------------


def _channels(services: AppServices, smtp_port: int) -> Mapping[Channel, DeliveryChannel]:
    return {
        Channel.EMAIL: SmtpChannel(host="127.0.0.1", port=smtp_port, sender=SENDER, tls="none", timeout=5),
        Channel.SMS: DevOutboxChannel(services.session_factory, Channel.SMS),
        Channel.PUSH: DevOutboxChannel(services.session_factory, Channel.PUSH),
    }


def _dispatcher(services: AppServices, smtp_port: int, **options: Any) -> Dispatcher:
    return Dispatcher(session_factory=services.session_factory, channels=_channels(services, smtp_port), **options)


async def _user(session: AsyncSession, **overrides: Any) -> User:
    user = await make_user(session, status=UserStatus.CONFIRMED, **overrides)
    await session.commit()
    return user


async def _notify(
    services: AppServices,
    user: User,
    *,
    kind: NotificationKind = NotificationKind.SYSTEM,
    title: str = "Уведомление",
    body: str = "Текст уведомления",
    channels: list[Channel] | None = None,
    fail: bool = False,
) -> int:
    async with unit_of_work(services.session_factory, services.bus) as session:
        note = await notify(session, user=user, kind=kind, title=title, body=body, channels=channels)
        if fail:
            raise Boom
    return note.id


async def _deliveries(services: AppServices) -> list[NotificationDelivery]:
    async with services.session_factory() as session:
        return list((await session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))).all())


async def _outbox(services: AppServices) -> list[OutboxMessage]:
    async with services.session_factory() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


# --- email over SMTP --------------------------------------------------------------------


async def test_email_arrives_at_the_smtp_server_in_utf8(
    session: AsyncSession, app_services: AppServices, sink: SmtpSink
) -> None:
    # given a user with an email, and a security notice (email + push by default)
    user = await _user(session, email="anna@example.ru")
    title = "Вход с нового устройства"
    body = "Здравствуйте, Анна Сергеевна! В ваш дневник вошли с устройства «Firefox, Москва»."
    await _notify(app_services, user, kind=NotificationKind.SECURITY, title=title, body=body)

    # when the dispatcher runs a round
    report = await _dispatcher(app_services, sink.port).dispatch_once()

    # then the email reached the SMTP server: recipient, subject and body in UTF-8
    assert (report.claimed, report.sent, report.retrying, report.failed) == (2, 2, 0, 0)
    assert len(sink.received) == 1
    assert sink.received[0].rcpt_tos == ["anna@example.ru"]
    assert sink.received[0].mail_from == "noreply@ediary.test"
    message = sink.messages()[0]
    assert message["Subject"] == title
    assert message["To"] == "anna@example.ru"
    assert message["From"] == SENDER
    assert message.get_content_charset() == "utf-8"
    assert body in message.get_content()
    # the push went to the development outbox; both deliveries are SENT
    [push] = await _outbox(app_services)
    assert (push.channel, push.address, push.subject, push.body) == (Channel.PUSH, f"user:{user.id}", title, body)
    rows = await _deliveries(app_services)
    assert {r.channel for r in rows} == {Channel.EMAIL, Channel.PUSH}
    for row in rows:
        assert row.status == DeliveryStatus.SENT
        assert row.attempts == 1
        assert row.sent_at is not None
        assert row.last_error is None


async def test_smtp_down_keeps_the_delivery_pending_then_it_goes_when_the_server_is_up(
    session: AsyncSession, app_services: AppServices, closed_port: SmtpSink
) -> None:
    # given an email delivery and no SMTP server listening
    user = await _user(session, email="boris@example.ru")
    await _notify(app_services, user, title="Новая оценка", channels=[Channel.EMAIL])
    dispatcher = _dispatcher(app_services, closed_port.port)
    t0 = utcnow()

    # when a round runs
    report = await dispatcher.dispatch_once(now=t0)

    # then the delivery is kept: PENDING, one attempt, the error, a retry in about 30 s
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    [row] = await _deliveries(app_services)
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1
    assert row.last_error is not None
    assert "smtp" in row.last_error
    assert t0 + dt.timedelta(seconds=24) <= row.next_attempt_at <= t0 + dt.timedelta(seconds=36)
    # and it is not tried again before then
    assert (await dispatcher.dispatch_once(now=t0 + dt.timedelta(seconds=20))).claimed == 0

    # when the server comes up and the retry is due
    await closed_port.start()
    report = await dispatcher.dispatch_once(now=row.next_attempt_at)

    # then it is sent
    assert report.sent == 1
    [row] = await _deliveries(app_services)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, None)
    assert [e.rcpt_tos for e in closed_port.received] == [["boris@example.ru"]]


async def test_gives_up_as_failed_after_the_last_attempt(
    session: AsyncSession, app_services: AppServices, closed_port: SmtpSink
) -> None:
    # given an email delivery, a server that stays down, and three attempts allowed
    user = await _user(session)
    await _notify(app_services, user, channels=[Channel.EMAIL])
    dispatcher = _dispatcher(app_services, closed_port.port, retry=RetryPolicy(max_attempts=3))

    # when every retry comes due
    now = utcnow()
    outcomes = []
    for _ in range(3):
        report = await dispatcher.dispatch_once(now=now)
        outcomes.append((report.retrying, report.failed))
        [row] = await _deliveries(app_services)
        now = row.next_attempt_at

    # then the first two are retried, each later than the one before, and the third gives up
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    [row] = await _deliveries(app_services)
    assert (row.status, row.attempts, row.sent_at) == (DeliveryStatus.FAILED, 3, None)
    assert row.last_error
    assert (await dispatcher.dispatch_once(now=now + dt.timedelta(days=30))).claimed == 0


async def test_a_mailbox_that_does_not_exist_fails_at_once(
    session: AsyncSession, app_services: AppServices, sink: SmtpSink
) -> None:
    # given a server that refuses the recipient permanently
    sink.refuse_rcpt = "550 5.1.1 No such mailbox"
    user = await _user(session, email="nobody@example.ru")
    await _notify(app_services, user, channels=[Channel.EMAIL])

    # when a round runs
    report = await _dispatcher(app_services, sink.port).dispatch_once()

    # then it is not retried
    assert report.failed == 1
    [row] = await _deliveries(app_services)
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == 1
    assert "550" in (row.last_error or "")


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=30, factor=4, max_seconds=6 * 3600, jitter=0.2)
    expected = [30, 120, 480, 1920, 7680, 21600, 21600, 21600]
    for attempt, seconds in enumerate(expected, start=1):
        delays = {policy.delay(attempt).total_seconds() for _ in range(20)}
        assert all(seconds * 0.8 <= d <= seconds * 1.2 for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered: one outage's retries spread out


def test_channels_are_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = create_session_factory(create_engine("sqlite+aiosqlite://"))
    dev = build_channels(load_settings(secret_key="x" * 32, smtp_host=""), factory)
    assert {channel: type(impl) for channel, impl in dev.items()} == {
        Channel.EMAIL: DevOutboxChannel,
        Channel.SMS: DevOutboxChannel,
        Channel.PUSH: DevOutboxChannel,
    }
    monkeypatch.setenv("SMTP_HOST", "smtp.school.example")
    monkeypatch.setenv("SMTP_PORT", "465")
    monkeypatch.setenv("SMTP_TLS", "tls")
    smtp = build_channels(load_settings(secret_key="x" * 32), factory)[Channel.EMAIL]
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.host, smtp.port) == ("smtp.school.example", 465)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SMTP_FROM", "не адрес"), ("SMTP_TLS", "ssl"), ("SMS_PROVIDER", "acme"), ("DELIVERY_MAX_ATTEMPTS", "0")],
)
def test_bad_delivery_settings_name_their_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


# --- SMS, the development outbox and the command line ----------------------------------


async def _cli(settings: Settings, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMTP_")},
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": settings.broadcast_url,
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "WARNING",
        "COLUMNS": "200",  # rich wraps tables at 80 columns without a terminal
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ediary_gql.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    output = out.decode()
    assert proc.returncode == 0, output
    return output


async def test_sms_goes_to_the_outbox_and_the_cli_shows_it(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    # given a verification code sent by SMS, and a message to another number
    user = await _user(session, phone="+79161234567")
    other = await _user(session, phone="+79160000000")
    await _notify(
        app_services,
        user,
        kind=NotificationKind.VERIFICATION_CODE,
        title="Код подтверждения",
        body="Ваш код: 482913. Никому его не сообщайте.",
        channels=[Channel.SMS],
    )
    await _notify(app_services, other, body="Собрание в пятницу", channels=[Channel.SMS])

    # when the dispatcher configured as by default runs (SMS_PROVIDER=dev)
    report = await Dispatcher.from_settings(settings, app_services.session_factory).drain()

    # then the SMS are in the outbox, and `ediary-gql outbox --to` shows the one to that number, as typed
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    messages = await _outbox(app_services)
    assert {(m.channel, m.address) for m in messages} == {(Channel.SMS, "+79161234567"), (Channel.SMS, "+79160000000")}
    assert {r.status for r in await _deliveries(app_services)} == {DeliveryStatus.SENT}
    listing = await _cli(settings, "outbox", "--to", "8 916 123-45-67")
    assert "482913" in listing
    assert "+79161234567" in listing
    assert "Собрание" not in listing


# --- who gets what --------------------------------------------------------------------


async def test_the_channels_follow_the_users_contacts_and_preferences(
    session: AsyncSession, app_services: AppServices
) -> None:
    # given a user with a phone but no email, who chose SMS and email for grades and nothing for homework
    user = await _user(
        session, email=None, phone="+79035556677", notification_prefs={"GRADE": ["SMS", "EMAIL"], "HOMEWORK": []}
    )

    # when a security notice, a grade and a homework notice are written
    security = await _notify(app_services, user, kind=NotificationKind.SECURITY)
    grade = await _notify(app_services, user, kind=NotificationKind.GRADE)
    homework = await _notify(app_services, user, kind=NotificationKind.HOMEWORK)

    # then no email delivery is made (no address), the rest follow the choices
    by_note: dict[int, set[Channel]] = {}
    for row in await _deliveries(app_services):
        by_note.setdefault(row.notification_id, set()).add(row.channel)
    assert by_note == {security: {Channel.PUSH}, grade: {Channel.SMS}}
    assert homework not in by_note


async def test_a_rolled_back_notification_is_never_delivered(
    session: AsyncSession, app_services: AppServices, sink: SmtpSink
) -> None:
    # given a transaction that wrote a notification and then failed
    user = await _user(session)
    with pytest.raises(Boom):
        await _notify(app_services, user, kind=NotificationKind.SECURITY, fail=True)

    # when the dispatcher runs
    report = await _dispatcher(app_services, sink.port).dispatch_once()

    # then there was nothing to send: the deliveries never existed
    assert report.claimed == 0
    assert await _deliveries(app_services) == []
    assert await _outbox(app_services) == []
    assert sink.received == []


async def test_only_the_user_themself_may_change_their_preferences(
    session: AsyncSession, app_services: AppServices
) -> None:
    anna = await _user(session)
    boris = await _user(session)
    as_boris = Actor(user_id=boris.id, session_id=None, status=UserStatus.CONFIRMED)
    as_operator = Actor(user_id=boris.id, session_id=None, status=UserStatus.CONFIRMED, is_operator=True)
    for actor in (as_boris, as_operator):
        with pytest.raises(DomainError) as refused:
            async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
                await update_preferences(
                    tx,
                    actor=actor,
                    user_id=anna.id,
                    changes=[PreferenceChange(kind=NotificationKind.GRADE, channels=[])],
                )
        assert refused.value.code == ErrorCode.FORBIDDEN
    async with app_services.session_factory() as fresh:
        assert (await fresh.get(User, anna.id)).notification_prefs == {}  # type: ignore[union-attr]


# --- several dispatchers at once ----------------------------------------------------------


async def test_two_dispatchers_at_once_never_send_a_delivery_twice(
    session: AsyncSession, app_services: AppServices, settings: Settings, sink: SmtpSink
) -> None:
    # given 40 email deliveries, and two dispatchers with their own connection pools (as two processes)
    users = [await make_user(session, email=f"parent{i}@example.ru") for i in range(40)]
    await session.commit()
    for user in users:
        await _notify(app_services, user, channels=[Channel.EMAIL])
    engines = [create_engine(settings.database_url) for _ in range(2)]
    try:
        dispatchers = [
            Dispatcher(
                session_factory=create_session_factory(engine),
                channels=_channels(app_services, sink.port),
                batch_size=4,
                concurrency=2,
            )
            for engine in engines
        ]

        # when both drain the queue at the same time
        first, second = await asyncio.gather(*(d.drain() for d in dispatchers))
    finally:
        for engine in engines:
            await engine.dispose()

    # then every delivery was sent exactly once, and both did part of the work
    recipients = [rcpt for envelope in sink.received for rcpt in envelope.rcpt_tos]
    assert sorted(recipients) == sorted(f"parent{i}@example.ru" for i in range(40))
    assert first.sent + second.sent == 40
    assert first.sent > 0
    assert second.sent > 0
    rows = await _deliveries(app_services)
    assert {(r.status, r.attempts) for r in rows} == {(DeliveryStatus.SENT, 1)}


@pytest.mark.postgres_only
async def test_a_row_locked_by_another_dispatcher_is_skipped_not_waited_for(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    # given two deliveries, one of them locked by another transaction (a dispatcher mid-claim)
    user = await _user(session)
    await _notify(app_services, user, channels=[Channel.SMS])
    await _notify(app_services, user, channels=[Channel.PUSH])
    locked, free = await _deliveries(app_services)
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as other, other.begin():
            await other.execute(
                text("SELECT id FROM notification_deliveries WHERE id = :id FOR UPDATE"), {"id": locked.id}
            )

            # when a dispatcher runs meanwhile
            dispatcher = Dispatcher(session_factory=app_services.session_factory, channels=_channels(app_services, 1))
            report = await asyncio.wait_for(dispatcher.dispatch_once(), 5)

            # then it sent the free one without waiting for the lock
            assert report.sent == 1
        # and the other one once the lock is gone
        assert (await dispatcher.dispatch_once()).sent == 1
    finally:
        await engine.dispose()
    assert [r.status for r in await _deliveries(app_services)] == [DeliveryStatus.SENT] * 2
    assert [m.channel for m in await _outbox(app_services)] == [Channel.PUSH, Channel.SMS]
    assert free.id != locked.id


# --- running in the background -----------------------------------------------------------


async def _wait_for_outbox(services: AppServices, count: int, within: float = 5.0) -> list[OutboxMessage]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        messages = await _outbox(services)
        if len(messages) >= count or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.02)


async def test_a_running_dispatcher_wakes_on_commit_and_stops_cleanly(
    session: AsyncSession, app_services: AppServices
) -> None:
    # given a dispatcher running in the background that would poll only once a minute
    user = await _user(session)
    dispatcher = _dispatcher(app_services, 1, bus=app_services.bus, poll_seconds=60)
    dispatcher.start()
    try:
        await wait_on_bus(app_services, event_channels.deliveries())
        await asyncio.sleep(0.05)  # its first round (on subscribing) is over

        # when a notification is committed
        started = asyncio.get_running_loop().time()
        await _notify(app_services, user, title="Домашнее задание", channels=[Channel.PUSH])

        # then it is delivered at once, not at the next poll
        messages = await _wait_for_outbox(app_services, 1)
        assert [m.subject for m in messages] == ["Домашнее задание"]
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        # and it stops promptly when asked
        await asyncio.wait_for(dispatcher.stop(), 5)
    assert not dispatcher.running
    assert app_services.bus.subscriber_count(event_channels.deliveries()) == 0


async def test_the_server_runs_a_dispatcher_for_its_lifetime(
    session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    # given a server started with DISPATCHER_ENABLED (the test server runs without)
    user = await _user(session)
    app = create_app(settings.model_copy(update={"dispatcher_enabled": True, "dispatcher_poll_seconds": 0.05}))
    async with app.router.lifespan_context(app):
        dispatcher: Dispatcher = app.state.dispatcher
        assert dispatcher.running

        # when a notification is committed through it
        services: AppServices = app.state.services
        await _notify(services, user, title="Объявление", channels=[Channel.PUSH])

        # then it is delivered
        assert [m.subject for m in await _wait_for_outbox(app_services, 1)] == ["Объявление"]
    # and the dispatcher ends with the server
    assert not dispatcher.running
