"""Delivery channels: one interface, an SMTP implementation and the development outbox.

A channel sends one message to one address. It returns when the message was
accepted, or raises :class:`RetryableDeliveryError` (try again later: the
server is down, busy, or misconfigured) or :class:`PermanentDeliveryError`
(this message can never be delivered: the mailbox does not exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal, Protocol

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.models.enums import Channel
from ediary_gql.db.models.notifications import OutboxMessage
from ediary_gql.settings import Settings

SUBJECT_MAX = 200  # OutboxMessage.subject
EMAIL_FOOTER = "\n\n—\nЭто автоматическое письмо электронного дневника, отвечать на него не нужно."


class DeliveryError(Exception):
    """A send that did not go through; `retryable` says whether trying again may help."""

    retryable: bool = True


class RetryableDeliveryError(DeliveryError):
    retryable = True


class PermanentDeliveryError(DeliveryError):
    retryable = False


class DeliveryChannel(Protocol):
    """Sends one message; raises a DeliveryError subclass when it could not."""

    async def send(self, *, address: str, subject: str, body: str) -> None: ...


class DevOutboxChannel:
    """The development channel: what it "sends" is stored in `outbox_messages`
    and read with `ediary-gql outbox [--to ADDRESS]`."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], channel: Channel) -> None:
        self._session_factory = session_factory
        self._channel = channel

    async def send(self, *, address: str, subject: str, body: str) -> None:
        try:
            async with self._session_factory() as session, session.begin():
                session.add(
                    OutboxMessage(channel=self._channel, address=address, subject=subject[:SUBJECT_MAX], body=body)
                )
        except Exception as exc:  # the database is the "server" here: down means retry
            raise RetryableDeliveryError(f"outbox: {type(exc).__name__}: {exc}") from exc


TlsMode = Literal["starttls", "tls", "none"]


class SmtpChannel:
    """Email over SMTP (aiosmtplib): one connection per message."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        tls: TlsMode = "starttls",
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username or None
        self._password = password or None
        self._tls = tls
        self._timeout = timeout

    def message(self, *, address: str, subject: str, body: str) -> EmailMessage:
        """The email as sent: UTF-8 text, the subject encoded for any mail reader."""
        try:
            # Address() checks the syntax: no header injection through a stored address
            to = Address(addr_spec=address)
        except (ValueError, IndexError) as exc:
            raise PermanentDeliveryError(f"smtp: invalid address: {exc}") from exc
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = " ".join(subject.split())  # headers are one line
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=parseaddr(self.sender)[1].partition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body + EMAIL_FOOTER, charset="utf-8")
        return message

    async def send(self, *, address: str, subject: str, body: str) -> None:
        message = self.message(address=address, subject=subject, body=body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self._tls == "tls",
                start_tls=self._tls == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            error = f"smtp: recipient refused: {'; '.join(f'{r.code} {r.message}' for r in exc.recipients)}"
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentDeliveryError(error) from exc
            raise RetryableDeliveryError(error) from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            error = f"smtp: recipient refused: {exc.code} {exc.message}"
            raise (PermanentDeliveryError if 500 <= exc.code < 600 else RetryableDeliveryError)(error) from exc
        except aiosmtplib.SMTPDataError as exc:
            # 5xx to DATA: the message itself is refused (too large, rejected as spam)
            error = f"smtp: message refused: {exc.code} {exc.message}"
            raise (PermanentDeliveryError if 500 <= exc.code < 600 else RetryableDeliveryError)(error) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # authentication, sender, HELO: our configuration, not the message; it waits for a fix
            raise RetryableDeliveryError(f"smtp: {type(exc).__name__}: {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryableDeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc


def email_channel(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> DeliveryChannel:
    if not settings.smtp_host:
        return DevOutboxChannel(session_factory, Channel.EMAIL)
    return SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(),
        tls=settings.smtp_tls,
        timeout=settings.delivery_send_timeout_seconds,
    )


def build_channels(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> Mapping[Channel, DeliveryChannel]:
    """The channel for each kind of delivery, as configured.

    Email goes over SMTP when SMTP_HOST is set, else to the development outbox;
    SMS and push have no real provider yet (SMS_PROVIDER / PUSH_PROVIDER: dev).
    """
    providers: dict[Channel, DeliveryChannel] = {Channel.EMAIL: email_channel(settings, session_factory)}
    if settings.sms_provider == "dev":
        providers[Channel.SMS] = DevOutboxChannel(session_factory, Channel.SMS)
    if settings.push_provider == "dev":
        providers[Channel.PUSH] = DevOutboxChannel(session_factory, Channel.PUSH)
    return providers
