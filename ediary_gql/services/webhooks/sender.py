"""The webhook sender: relays new changes into deliveries (relay.py), then works the
`webhook_deliveries` outbox as the notification dispatcher works its own
(services/delivery/dispatcher.py).

A round claims due PENDING deliveries of ACTIVE webhooks (an integration's only while the
integration is ACTIVE) — on PostgreSQL locked with
`FOR UPDATE SKIP LOCKED` first, so senders in several processes take disjoint batches; on
SQLite one UPDATE … RETURNING — counting the attempt and pushing `next_attempt_at` out by a
lease, so no other sender sees the row while it is sent. Each is POSTed, signed
(signing.py), to the addresses its URL resolves to now, checked again (urls.py: DNS
rebinding), with no redirect followed and no proxy from the environment. A 2xx answer is
SENT; anything else is retried after an exponential, jittered delay (30 s, 2 min, 8 min,
…, up to WEBHOOK_RETRY_MAX_SECONDS) until WEBHOOK_MAX_ATTEMPTS, then FAILED; a URL that
now points inside the network is FAILED at once. Each attempt leaves its response status,
error and duration on the row (the delivery log).

WEBHOOK_DISABLE_AFTER_FAILURES deliveries FAILED in a row (a success starts the count over)
disable the webhook, and the school's admins are told (a SYSTEM notice).

Delivery is at least once: a sender that dies between a send and its record leaves the
row claimed, and it is sent again when the lease runs out (receivers deduplicate by
X-Ediary-Event-Id).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import DeliveryStatus, NotificationKind, WebhookStatus
from ediary_gql.db.models.integrations import Webhook, WebhookDelivery
from ediary_gql.events import channels as event_channels
from ediary_gql.events.bus import EventBus
from ediary_gql.events.publish import Publisher, unit_of_work
from ediary_gql.services import audit, public_ids
from ediary_gql.services.background import BackgroundWorker, NoBus, WorkerEvents
from ediary_gql.services.delivery.dispatcher import (
    DispatchReport,
    Outcome,
    RetryPolicy,
    batch_lease,
    drain_rounds,
    send_batch,
)
from ediary_gql.services.notifications import Notice, notify_many, school_admins
from ediary_gql.services.webhooks import relay, signing, urls
from ediary_gql.settings import Settings

log = structlog.get_logger(__name__)

ERROR_MAX = 2000
USER_AGENT = "ediary-gql-webhooks/1"


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    webhook_id: int
    attempts: int  # counting the one under way
    event_id: str
    event_type: str
    payload: dict[str, Any]
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    error: str | None = None
    response_status: int | None = None
    duration_ms: int | None = None


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a delivery's payload."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


async def claim_due(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries of active webhooks for this sender (committed before it returns)."""
    d, w = WebhookDelivery, Webhook
    due = (
        relay.deliverable(select(d.id).join(w, w.id == d.webhook_id))
        .where(d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    )
    async with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            # lock first, in a statement of its own (the dispatcher says why)
            ids = list(await session.scalars(due.with_for_update(of=d, skip_locked=True)))
            if not ids:
                return []
            chosen = d.id.in_(ids)
        else:
            async with session_factory() as peek:  # an idle poll only reads: no write lock on SQLite
                if await peek.scalar(due.limit(1)) is None:
                    return []
            chosen = d.id.in_(due)
        claimed = (
            await session.execute(
                update(d)
                .where(chosen, d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now)
                .values(attempts=d.attempts + 1, next_attempt_at=now + lease)
                .returning(d.id, d.webhook_id, d.attempts, d.event_id, d.event_type, d.payload)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not claimed:
            return []
        hooks = {
            row.id: (row.url, row.secret)
            for row in await session.execute(
                select(w.id, w.url, w.secret).where(w.id.in_({row.webhook_id for row in claimed}))
            )
        }
    return [
        ClaimedDelivery(
            id=row.id,
            webhook_id=row.webhook_id,
            attempts=row.attempts,
            event_id=row.event_id,
            event_type=row.event_type,
            payload=row.payload,
            url=hooks[row.webhook_id][0],
            secret=hooks[row.webhook_id][1],
        )
        for row in sorted(claimed, key=lambda r: r.id)
        if row.webhook_id in hooks
    ]


class WebhookSender(BackgroundWorker):
    """Relays and sends: `send_once()` for one round, `drain()` until nothing is due,
    `start()`/`stop()` to run in the background (woken when changes commit, else every
    poll interval). Deliveries cut off mid-send by `stop()` stay claimed and are sent
    again after the lease."""

    task_name = "webhook-sender"
    events = WorkerEvents.named("webhook", "sender")

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        retry: RetryPolicy | None = None,
        allow_private: bool = False,
        timeout: float = 10.0,
        batch_size: int = 20,
        concurrency: int = 4,
        poll_seconds: float = 5.0,
        disable_after: int = 5,
        bus: EventBus | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        super().__init__(poll_seconds=poll_seconds, bus=bus)
        self._session_factory = session_factory
        self.retry = retry or RetryPolicy()
        self.allow_private = allow_private
        self.timeout = timeout
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.disable_after = disable_after
        self._publisher: Publisher = bus if bus is not None else NoBus()
        self._clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession], *, bus: EventBus | None = None
    ) -> WebhookSender:
        return cls(
            session_factory=session_factory,
            retry=RetryPolicy(
                max_attempts=settings.webhook_max_attempts,
                base_seconds=settings.webhook_retry_base_seconds,
                max_seconds=settings.webhook_retry_max_seconds,
            ),
            allow_private=settings.webhook_allow_private_urls,
            timeout=settings.webhook_timeout_seconds,
            batch_size=settings.webhook_batch_size,
            concurrency=settings.webhook_concurrency,
            poll_seconds=settings.webhook_poll_seconds,
            disable_after=settings.webhook_disable_after_failures,
            bus=bus,
        )

    @property
    def lease(self) -> dt.timedelta:
        """Longer than the slowest batch can take: every send is cut off at `timeout`."""
        return batch_lease(batch_size=self.batch_size, concurrency=self.concurrency, send_timeout=self.timeout)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # no proxy from the environment (it would connect to the name, not the checked
            # address), no redirect (it would lead anywhere, unchecked)
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False, transport=self._transport)
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- one round ---------------------------------------------------------------------

    async def send_once(self, *, now: dt.datetime | None = None) -> DispatchReport:
        """Relay new changes, then claim one batch of deliveries due at `now` and send them."""
        try:
            await relay.relay_once(self._session_factory)
        except Exception:  # deliveries already made still go out; the next round relays again
            log.exception("webhook_relay_failed")
        clock = self._clock if now is None else (lambda: now)
        claimed = await claim_due(self._session_factory, now=clock(), limit=self.batch_size, lease=self.lease)
        if not claimed:
            return DispatchReport()

        async def record(item: ClaimedDelivery, attempt: Attempt) -> Outcome:
            if attempt.outcome is Outcome.RETRY and item.attempts >= self.retry.max_attempts:
                attempt = Attempt(Outcome.FAILED, attempt.error, attempt.response_status, attempt.duration_ms)
            await self._record(item, attempt, clock())
            return attempt.outcome

        return await send_batch(claimed, concurrency=self.concurrency, send=self.attempt, record=record)

    async def drain(self, *, now: dt.datetime | None = None) -> DispatchReport:
        """Rounds until nothing is due (failed sends wait for their retry time)."""
        return await drain_rounds(lambda: self.send_once(now=now), batch_size=self.batch_size)

    async def attempt(self, item: ClaimedDelivery) -> Attempt:
        """POST the delivery once, to its URL's addresses as they resolve now."""
        try:
            target = await urls.check(item.url, allow_private=self.allow_private)
        except urls.UrlRefused as exc:
            return Attempt(Outcome.FAILED, str(exc))
        except urls.UrlUnresolved as exc:
            return Attempt(Outcome.RETRY, str(exc))
        body = body_of(item.payload)
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            signing.SIGNATURE_HEADER: signing.signature(item.secret, int(time.time()), body),
            signing.EVENT_ID_HEADER: item.event_id,
            signing.EVENT_TYPE_HEADER: item.event_type,
            signing.DELIVERY_HEADER: public_ids.global_id("WebhookDelivery", item.id),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        started = time.perf_counter()
        error = "нет адресов"
        for address in target.addresses:  # the next address only if this one did not connect
            url = httpx.URL(item.url).copy_with(host=str(address))
            try:
                async with asyncio.timeout(self.timeout):
                    request = self._http().build_request(
                        "POST", url, content=body, headers=headers, extensions=extensions
                    )
                    response = await self._http().send(request, stream=True)
                    await response.aclose()  # its body is not read: a status is all we keep
            except TimeoutError:
                return Attempt(Outcome.RETRY, f"Нет ответа за {self.timeout:g} с", None, _since(started))
            except httpx.ConnectError as exc:
                error = f"Не удалось соединиться с {address}: {exc}"
                continue
            except httpx.HTTPError as exc:
                return Attempt(Outcome.RETRY, f"Ошибка доставки: {type(exc).__name__}: {exc}", None, _since(started))
            status = response.status_code
            if 200 <= status < 300:
                return Attempt(Outcome.SENT, None, status, _since(started))
            return Attempt(Outcome.RETRY, f"Приёмник ответил HTTP {status}", status, _since(started))
        return Attempt(Outcome.RETRY, error, None, _since(started))

    async def _record(self, item: ClaimedDelivery, attempt: Attempt, now: dt.datetime) -> None:
        d = WebhookDelivery
        # only while the claim is still ours: same attempt, still pending
        stmt = update(d).where(d.id == item.id, d.status == DeliveryStatus.PENDING, d.attempts == item.attempts)
        values: dict[str, Any] = {
            "response_status": attempt.response_status,
            "duration_ms": attempt.duration_ms,
            "last_error": None if attempt.error is None else attempt.error[:ERROR_MAX],
        }
        if attempt.outcome is Outcome.SENT:
            values |= {"status": DeliveryStatus.SENT, "sent_at": now}
        elif attempt.outcome is Outcome.FAILED:
            values |= {"status": DeliveryStatus.FAILED}
        else:
            values |= {"next_attempt_at": now + self.retry.delay(item.attempts)}
        try:
            async with unit_of_work(self._session_factory, self._publisher) as session:
                result = await session.execute(stmt.values(**values).execution_options(synchronize_session=False))
                if not result.rowcount:  # type: ignore[attr-defined]
                    log.warning("webhook_claim_lost", delivery_id=item.id)
                    return
                if attempt.outcome is Outcome.SENT:
                    await session.execute(
                        update(Webhook)
                        .where(Webhook.id == item.webhook_id, Webhook.consecutive_failures != 0)
                        .values(consecutive_failures=0)
                    )
                elif attempt.outcome is Outcome.FAILED:
                    await self._failed_for_good(session, item.webhook_id, now)
        except Exception:  # the claim's lease runs out and the delivery is tried again
            log.exception("webhook_record_failed", delivery_id=item.id, outcome=attempt.outcome.value)
            return
        if attempt.outcome is not Outcome.SENT:
            log.warning(
                "webhook_failed" if attempt.outcome is Outcome.FAILED else "webhook_retry",
                delivery_id=item.id,
                webhook_id=item.webhook_id,
                attempts=item.attempts,
                error=attempt.error,
            )

    async def _failed_for_good(self, session: AsyncSession, webhook_id: int, now: dt.datetime) -> None:
        """One more delivery failed for good: at the limit, the webhook is disabled and
        the school's admins are told."""
        hook = await session.get(Webhook, webhook_id, with_for_update=True)
        if hook is None:
            return
        hook.consecutive_failures += 1
        if hook.status != WebhookStatus.ACTIVE or hook.consecutive_failures < self.disable_after:
            return
        hook.status, hook.disabled_at = WebhookStatus.DISABLED, now
        audit.record(
            session,
            actor=None,
            action="disableWebhook",
            entity_type="Webhook",
            entity_id=hook.id,
            school_id=hook.school_id,
            after={"status": WebhookStatus.DISABLED.value, "consecutiveFailures": hook.consecutive_failures},
        )
        body = (
            f"Доставки на {hook.url} не удались {hook.consecutive_failures} раз подряд, и вебхук отключён. "
            "Исправьте приёмник и включите вебхук снова (updateWebhook, active: true); пропущенные изменения "
            "есть в ленте изменений (changes)."
        )
        admins = await school_admins(session, hook.school_id)
        await notify_many(
            session,
            [
                Notice(
                    user=a,
                    kind=NotificationKind.SYSTEM,
                    title="Вебхук отключён",
                    body=body,
                    payload={"webhook_id": hook.id},
                )
                for a in admins
            ],
        )
        log.warning("webhook_disabled", webhook_id=hook.id, school_id=hook.school_id)

    # -- running in the background ---------------------------------------------------

    async def round(self) -> bool:
        # a full batch: more may be due at once
        return (await self.send_once()).claimed >= self.batch_size

    def wake_channel(self) -> str:
        """Changes committed (or a delivery asked for again), in any process."""
        return event_channels.changes_committed()

    async def stop(self, *, grace: float = 10.0) -> None:
        await super().stop(grace=grace)
        await self.close()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
