"""Feedback tickets (обращения): anyone signed in files one (category, subject, text,
screenshots, links to diary records they may see); it gets a number FB-<year>-<6 digits>
and a confirmation, and is to be answered within 24 hours. Operators (and, for an error
in a school's data, that school's admins) work the queue oldest deadline first:

    OPEN → IN_PROGRESS (taken) → ANSWERED → CLOSED
      ↑___________ reopened by the author within 7 days of the answer

Every step is audited, queued on the tickets' channel and, where it concerns the author,
told to them (kind FEEDBACK), also at the contact email they gave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.enums import Channel, FeedbackCategory, FeedbackStatus, NotificationKind
from ediary_gql.db.models.feedback import (
    ANSWER_DEADLINE,
    FeedbackAttachment,
    FeedbackNumberCounter,
    FeedbackTicket,
)
from ediary_gql.db.models.notifications import NotificationDelivery
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import DeliveriesQueued, FeedbackTicketChanged
from ediary_gql.services import audit, feedback_links, numbering, rate_limits
from ediary_gql.services.attachments import UploadedFile, collect_files
from ediary_gql.services.contacts import normalize_email
from ediary_gql.services.notifications import Notice, channels_for, notify_many, school_admins
from ediary_gql.services.school_time import DEFAULT_ZONE, zone_info
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage

SUBJECT_MAX = 200  # the column's length
TEXT_MAX = 10_000
ANSWER_MAX = 10_000
FILES_MAX = 5
LINKS_MAX = 20
REOPEN_WINDOW = dt.timedelta(days=7)
# Tickets waiting for an answer: what "overdue" and the deadline apply to.
WAITING = (FeedbackStatus.OPEN, FeedbackStatus.IN_PROGRESS)
NOT_FOUND = "Обращение не найдено"
_MSK = zone_info(DEFAULT_ZONE)  # the portal's operators tell times in Moscow time


@dataclass(frozen=True, slots=True)
class FeedbackData:
    category: FeedbackCategory
    subject: str
    description: str
    contact_email: str | None = None
    # global IDs of diary records, as the author gave them
    link_ids: Sequence[str] = field(default_factory=tuple)
    files: Sequence[UploadedFile] = field(default_factory=tuple)


def facts(ticket: FeedbackTicket) -> policy.FeedbackTicketFacts:
    return policy.FeedbackTicketFacts(
        author_id=ticket.author_id, category=FeedbackCategory(ticket.category), school_id=ticket.school_id
    )


def may_view(actor: Actor | None, ticket: FeedbackTicket) -> bool:
    return policy.can_view_feedback_ticket(actor, facts(ticket))


def _msk(at: dt.datetime) -> str:
    return f"{at.astimezone(_MSK):%d.%m.%Y %H:%M} МСК"


async def next_number(session: AsyncSession, year: int) -> str:
    """ "FB-<year>-<6 digits>": never shared by two tickets."""
    return f"FB-{year}-{await numbering.next_in_year(session, FeedbackNumberCounter, year):06d}"


def per_user(settings: Settings) -> rate_limits.Limit:
    return rate_limits.Limit(
        bucket="submitFeedback:user",
        max_hits=settings.feedback_limit_per_user,
        window=dt.timedelta(seconds=settings.feedback_limit_window_seconds),
        message="Слишком много обращений подряд",
    )


# --- submitting ------------------------------------------------------------------------


async def _check_links(
    session: AsyncSession, errors: ErrorCollector, *, actor: Actor, data: FeedbackData
) -> tuple[list[feedback_links.LinkRef], int | None]:
    """The links (each a record the author may see, else an error at `linkIds.<i>`) and
    the school they are about (one school's, or None)."""
    if len(data.link_ids) > LINKS_MAX:
        errors.add("linkIds", ErrorCode.INVALID, f"Не больше {LINKS_MAX} ссылок на записи")
        return [], None
    parsed = [feedback_links.parse_link(raw) for raw in data.link_ids]
    records = await feedback_links.linked_records(session, [r for r in parsed if r is not None])
    refs: list[feedback_links.LinkRef] = []
    schools: dict[int, int] = {}  # school id -> the first link's index
    for i, ref in enumerate(parsed):
        where = ("linkIds", str(i))
        if ref is None:
            errors.add(
                where,
                ErrorCode.INVALID,
                "Ссылка должна указывать на оценку, урок, домашнее задание, отметку посещаемости или ученика",
            )
            continue
        record = records.get(ref)
        # one the author may not see looks the same as one that does not exist
        if record is None or not await feedback_links.may_see(session, actor, record):
            errors.add(where, ErrorCode.NOT_FOUND, "Запись не найдена или недоступна вам")
            continue
        if ref in refs:
            continue
        refs.append(ref)
        if record.school_id is not None:
            schools.setdefault(record.school_id, i)
    if len(schools) > 1 and data.category == FeedbackCategory.CONTENT_ERROR:
        second = sorted(schools.values())[1]
        errors.add(
            ("linkIds", str(second)),
            ErrorCode.INVALID,
            "Обращение об ошибке в данных — об одной школе: о записях другой школы подайте отдельное обращение",
        )
    return refs, (next(iter(schools)) if len(schools) == 1 else None)


async def submit_feedback(
    session: AsyncSession,
    *,
    actor: Actor,
    data: FeedbackData,
    storage: Storage,
    settings: Settings,
    now: dt.datetime | None = None,
) -> FeedbackTicket:
    """File a ticket: every field checked at once (each problem at its field path), a
    number, a deadline 24 hours ahead, a confirmation to the author. A CONTENT_ERROR
    ticket about one school's records is that school's too (its admins see and answer it)."""
    now = now or utcnow()
    await rate_limits.take(
        session, settings=settings, counters=[rate_limits.Counter(per_user(settings), str(actor.user_id))], now=now
    )
    errors = ErrorCollector()
    subject = " ".join((data.subject or "").split())
    if not subject:
        errors.add("subject", ErrorCode.REQUIRED, "Укажите тему обращения")
    elif len(subject) > SUBJECT_MAX:
        errors.add("subject", ErrorCode.TOO_LONG, f"Тема — не длиннее {SUBJECT_MAX} символов")
    text = (data.description or "").strip()
    if not text:
        errors.add("description", ErrorCode.REQUIRED, "Опишите, что случилось или что предлагаете")
    elif len(text) > TEXT_MAX:
        errors.add("description", ErrorCode.TOO_LONG, f"Описание — не длиннее {TEXT_MAX} символов")
    contact = None
    if data.contact_email is not None and data.contact_email.strip():
        contact = errors.check(lambda: normalize_email(data.contact_email or "", field="contactEmail"))
    refs, school_id = await _check_links(session, errors, actor=actor, data=data)
    stored = await collect_files(
        session,
        errors,
        actor=actor,
        files=data.files,
        storage=storage,
        settings=settings,
        limit=FILES_MAX,
        of_what="обращению",
    )
    errors.raise_if_any()

    ticket = FeedbackTicket(
        number=await next_number(session, now.astimezone(_MSK).year),
        author_id=actor.user_id,
        school_id=school_id,
        category=data.category,
        subject=subject,
        text=text,
        contact_email=contact,
        status=FeedbackStatus.OPEN,
        answer_due_at=now + ANSWER_DEADLINE,
        links=[r.global_id for r in refs],
    )
    session.add(ticket)
    await session.flush()
    session.add_all(FeedbackAttachment(ticket_id=ticket.id, attachment_id=a) for a in stored)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="submitFeedback",
        entity_type="FeedbackTicket",
        entity_id=ticket.id,
        after={
            "number": ticket.number,
            "category": str(ticket.category),
            "school_id": school_id,
            "links": list(ticket.links),
            "attachments": stored,
        },
        school_id=school_id,
    )
    await _notify_submitted(session, ticket)
    _changed(session, ticket, "submitted")
    return ticket


# --- working the ticket -----------------------------------------------------------------


async def get_visible(session: AsyncSession, actor: Actor, ticket_id: int, *, lock: bool = False) -> FeedbackTicket:
    """The ticket, locked for a change if `lock`; NOT_FOUND on `ticketId` when it does not
    exist or is not the actor's to see (the two look the same)."""
    stmt = select(FeedbackTicket).where(FeedbackTicket.id == ticket_id)
    if lock:
        stmt = stmt.with_for_update()
    ticket = (await session.scalars(stmt)).first()
    if ticket is None or not may_view(actor, ticket):
        raise DomainError(ErrorCode.NOT_FOUND, NOT_FOUND, field="ticketId")
    return ticket


def _require_status(ticket: FeedbackTicket, allowed: Sequence[FeedbackStatus], message: str) -> None:
    if FeedbackStatus(ticket.status) not in allowed:
        raise DomainError(ErrorCode.INVALID_STATE, message, field="ticketId")


WORKERS_ONLY = "Работать с обращением могут операторы портала, а с ошибкой в данных школы — её ответственные"


async def take_feedback_ticket(
    session: AsyncSession, *, actor: Actor, ticket_id: int, now: dt.datetime | None = None
) -> FeedbackTicket:
    """OPEN → IN_PROGRESS: the actor takes the ticket into work (becomes its assignee)."""
    ticket = await get_visible(session, actor, ticket_id, lock=True)
    policy.ensure(policy.can_work_feedback_ticket(actor, facts(ticket)), WORKERS_ONLY)
    _require_status(ticket, [FeedbackStatus.OPEN], f"Обращение {ticket.number} уже в работе или с ответом")
    ticket.status = FeedbackStatus.IN_PROGRESS
    ticket.assignee_id = actor.user_id
    ticket.taken_at = now or utcnow()
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="takeFeedbackTicket",
        entity_type="FeedbackTicket",
        entity_id=ticket.id,
        before={"status": str(FeedbackStatus.OPEN)},
        after={"status": str(ticket.status), "assignee_id": actor.user_id},
        school_id=ticket.school_id,
    )
    _changed(session, ticket, "taken")
    return ticket


async def answer_feedback_ticket(
    session: AsyncSession, *, actor: Actor, ticket_id: int, answer: str, now: dt.datetime | None = None
) -> FeedbackTicket:
    """→ ANSWERED (an open ticket is taken by the one who answers it); the author is told,
    in the app and at their contact email."""
    ticket = await get_visible(session, actor, ticket_id, lock=True)
    policy.ensure(policy.can_work_feedback_ticket(actor, facts(ticket)), WORKERS_ONLY)
    text = (answer or "").strip()
    if not text:
        raise DomainError(ErrorCode.REQUIRED, "Напишите ответ", field="answer")
    if len(text) > ANSWER_MAX:
        raise DomainError(ErrorCode.TOO_LONG, f"Ответ — не длиннее {ANSWER_MAX} символов", field="answer")
    before = FeedbackStatus(ticket.status)
    _require_status(ticket, WAITING, f"На обращение {ticket.number} уже ответили")
    now = now or utcnow()
    if before == FeedbackStatus.OPEN:
        ticket.assignee_id, ticket.taken_at = actor.user_id, now
    ticket.status = FeedbackStatus.ANSWERED
    ticket.answer = text
    ticket.answered_by_id = actor.user_id
    ticket.answered_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="answerFeedbackTicket",
        entity_type="FeedbackTicket",
        entity_id=ticket.id,
        before={"status": str(before)},
        after={"status": str(ticket.status), "answered_by_id": actor.user_id, "overdue": now > ticket.answer_due_at},
        school_id=ticket.school_id,
    )
    await _notify_answered(session, ticket)
    _changed(session, ticket, "answered")
    return ticket


def reopenable_until(ticket: FeedbackTicket) -> dt.datetime | None:
    """Until when the author may reopen an answered (or closed) ticket."""
    if ticket.answered_at is None or FeedbackStatus(ticket.status) in WAITING:
        return None
    return ticket.answered_at + REOPEN_WINDOW


async def reopen_feedback_ticket(
    session: AsyncSession, *, actor: Actor, ticket_id: int, now: dt.datetime | None = None
) -> FeedbackTicket:
    """ANSWERED or CLOSED → OPEN, by the author within 7 days of the answer: back in the
    queue with a new 24-hour deadline; whoever answered is told."""
    ticket = await get_visible(session, actor, ticket_id, lock=True)
    if not policy.can_reopen_feedback_ticket(actor, facts(ticket)):
        raise forbidden("Переоткрыть обращение может только его автор")
    before = FeedbackStatus(ticket.status)
    _require_status(
        ticket, [FeedbackStatus.ANSWERED, FeedbackStatus.CLOSED], f"Обращение {ticket.number} ещё ждёт ответа"
    )
    now = now or utcnow()
    until = reopenable_until(ticket)
    if until is None or now > until:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "Переоткрыть обращение можно в течение 7 дней после ответа"
            + (f" (до {_msk(until)})" if until is not None else "")
            + ": подайте новое обращение",
            field="ticketId",
        )
    ticket.status = FeedbackStatus.OPEN
    ticket.answer_due_at = now + ANSWER_DEADLINE
    ticket.reopened_count = (ticket.reopened_count or 0) + 1
    ticket.closed_at = None
    ticket.assignee_id = ticket.taken_at = None
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="reopenFeedbackTicket",
        entity_type="FeedbackTicket",
        entity_id=ticket.id,
        before={"status": str(before)},
        after={"status": str(ticket.status), "reopened_count": ticket.reopened_count},
        school_id=ticket.school_id,
    )
    await _notify_reopened(session, ticket)
    _changed(session, ticket, "reopened")
    return ticket


async def close_feedback_ticket(
    session: AsyncSession, *, actor: Actor, ticket_id: int, now: dt.datetime | None = None
) -> FeedbackTicket:
    """ANSWERED → CLOSED: by the author (the answer helped) or by those who work the ticket.
    A waiting ticket is not closed (a CLOSED ticket always has its answer)."""
    ticket = await get_visible(session, actor, ticket_id, lock=True)
    policy.ensure(
        policy.can_close_feedback_ticket(actor, facts(ticket)),
        "Закрыть обращение могут его автор и те, кто на него отвечает",
    )
    before = FeedbackStatus(ticket.status)
    _require_status(ticket, [FeedbackStatus.ANSWERED], f"Закрыть можно обращение с ответом: {ticket.number}")
    ticket.status = FeedbackStatus.CLOSED
    ticket.closed_at = now or utcnow()
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="closeFeedbackTicket",
        entity_type="FeedbackTicket",
        entity_id=ticket.id,
        before={"status": str(before)},
        after={"status": str(ticket.status)},
        school_id=ticket.school_id,
    )
    _changed(session, ticket, "closed")
    return ticket


def available_actions(actor: Actor | None, ticket: FeedbackTicket, *, now: dt.datetime | None = None) -> list[str]:
    """What the viewer may do with the ticket now: TAKE, ANSWER, REOPEN, CLOSE."""
    found: list[str] = []
    status = FeedbackStatus(ticket.status)
    rights = facts(ticket)
    works = policy.can_work_feedback_ticket(actor, rights)
    if works and status == FeedbackStatus.OPEN:
        found.append("TAKE")
    if works and status in WAITING:
        found.append("ANSWER")
    until = reopenable_until(ticket)
    if policy.can_reopen_feedback_ticket(actor, rights) and until is not None and (now or utcnow()) <= until:
        found.append("REOPEN")
    if policy.can_close_feedback_ticket(actor, rights) and status == FeedbackStatus.ANSWERED:
        found.append("CLOSE")
    return found


# --- notices and events ---------------------------------------------------------------------


def _changed(session: AsyncSession, ticket: FeedbackTicket, action: str) -> None:
    queue_event(session, FeedbackTicketChanged(ticket_id=ticket.id, status=str(ticket.status), action=action))


async def _notify_author(session: AsyncSession, ticket: FeedbackTicket, *, title: str, body: str) -> None:
    """A FEEDBACK notice to the author by the channels they chose; a contact email the
    ticket gave is where its email goes instead (the account's address otherwise), even
    if the author chose no email for the kind: they asked for the answer there."""
    author = await session.get_one(User, ticket.author_id)
    payload = {"ticket_id": ticket.id, "number": ticket.number, "status": str(ticket.status)}
    contact = ticket.contact_email
    chosen = channels_for(author, NotificationKind.FEEDBACK)
    channels = [c for c in chosen if c != Channel.EMAIL] if contact else None
    (note,) = await notify_many(
        session,
        [Notice(author, kind=NotificationKind.FEEDBACK, title=title, body=body, payload=payload, channels=channels)],
    )
    if contact:
        session.add(
            NotificationDelivery(user_id=note.user_id, notification_id=note.id, channel=Channel.EMAIL, address=contact)
        )
        await session.flush()
        queue_event(session, DeliveriesQueued())


async def _notify_submitted(session: AsyncSession, ticket: FeedbackTicket) -> None:
    await _notify_author(
        session,
        ticket,
        title=f"Обращение {ticket.number} зарегистрировано",
        body=f"Обращение {ticket.number} «{ticket.subject}» зарегистрировано. Ответим до {_msk(ticket.answer_due_at)}.",
    )
    # an error in a school's data is that school's to answer too: its admins are told
    if ticket.school_id is None or ticket.category not in policy.SCHOOL_FEEDBACK_CATEGORIES:
        return
    admins = [a for a in await school_admins(session, ticket.school_id) if a.id != ticket.author_id]
    await notify_many(
        session,
        [
            Notice(
                admin,
                kind=NotificationKind.FEEDBACK,
                title=f"Обращение {ticket.number}: ошибка в данных школы",
                body=f"Сообщают об ошибке в данных школы: «{ticket.subject}». "
                f"Ответить нужно до {_msk(ticket.answer_due_at)}.",
                payload={"ticket_id": ticket.id, "number": ticket.number, "status": str(ticket.status)},
            )
            for admin in admins
        ],
    )


async def _notify_answered(session: AsyncSession, ticket: FeedbackTicket) -> None:
    await _notify_author(
        session,
        ticket,
        title=f"Ответ на обращение {ticket.number}",
        body=f"На обращение {ticket.number} «{ticket.subject}» получен ответ: {ticket.answer}\n"
        f"Если вопрос не решён, обращение можно открыть снова в течение 7 дней.",
    )


async def _notify_reopened(session: AsyncSession, ticket: FeedbackTicket) -> None:
    if ticket.answered_by_id is None or ticket.answered_by_id == ticket.author_id:
        return
    answerer = await session.get(User, ticket.answered_by_id)
    if answerer is None:
        return
    await notify_many(
        session,
        [
            Notice(
                answerer,
                kind=NotificationKind.FEEDBACK,
                title=f"Обращение {ticket.number} открыто снова",
                body=f"Автор обращения {ticket.number} «{ticket.subject}» открыл его снова. "
                f"Ответить нужно до {_msk(ticket.answer_due_at)}.",
                payload={"ticket_id": ticket.id, "number": ticket.number, "status": str(ticket.status)},
            )
        ],
    )


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: FeedbackStatus | None = None
    category: FeedbackCategory | None = None
    overdue: bool | None = None


def overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """Waiting for an answer past the deadline."""
    return and_(FeedbackTicket.status.in_(WAITING), FeedbackTicket.answer_due_at < now)


def is_overdue(ticket: FeedbackTicket, now: dt.datetime | None = None) -> bool:
    return FeedbackStatus(ticket.status) in WAITING and ticket.answer_due_at < (now or utcnow())


def in_queue(actor: Actor | None, ticket: FeedbackTicket) -> bool:
    """Whether the ticket is in the queue the actor works (as `queue_query` selects it):
    every ticket for operators, CONTENT_ERROR tickets about their schools for school admins."""
    if actor is None:
        return False
    try:
        scope = policy.feedback_queue_scope(actor)
    except DomainError:
        return False
    if scope is None:
        return True
    return (
        ticket.school_id in scope
        and ticket.category in policy.SCHOOL_FEEDBACK_CATEGORIES
        and ticket.author_id != actor.user_id
    )


def works_a_queue(actor: Actor | None) -> bool:
    """An operator, or an admin of some school (whose CONTENT_ERROR tickets they work)."""
    if actor is None:
        return False
    try:
        policy.feedback_queue_scope(actor)
    except DomainError:
        return False
    return True


def own_tickets_query(actor: Actor) -> Select[FeedbackTicket]:
    return select(FeedbackTicket).where(FeedbackTicket.author_id == actor.user_id)


def queue_query(actor: Actor, flt: QueueFilter, *, now: dt.datetime | None = None) -> Select[FeedbackTicket]:
    """The tickets the actor works (operators: all; a school's admins: the CONTENT_ERROR
    tickets about their schools), filtered; the caller orders them, oldest deadline first."""
    scope = policy.feedback_queue_scope(actor)
    stmt = select(FeedbackTicket)
    if scope is not None:
        if flt.category is not None and flt.category not in policy.SCHOOL_FEEDBACK_CATEGORIES:
            return stmt.where(false())
        stmt = stmt.where(
            FeedbackTicket.school_id.in_(sorted(scope)),
            FeedbackTicket.category.in_(sorted(policy.SCHOOL_FEEDBACK_CATEGORIES)),
            FeedbackTicket.author_id != actor.user_id,
        )
    if flt.status is not None:
        stmt = stmt.where(FeedbackTicket.status == flt.status)
    if flt.category is not None:
        stmt = stmt.where(FeedbackTicket.category == flt.category)
    if flt.overdue is not None:
        cond = overdue_condition(now or utcnow())
        stmt = stmt.where(cond if flt.overdue else ~cond)
    return stmt


async def attachments(session: AsyncSession, ticket_ids: list[int]) -> list[tuple[int, Attachment]]:
    rows = await session.execute(
        select(FeedbackAttachment.ticket_id, Attachment)
        .join(Attachment, Attachment.id == FeedbackAttachment.attachment_id)
        .where(FeedbackAttachment.ticket_id.in_(ticket_ids))
        .order_by(FeedbackAttachment.id)
    )
    return [(t, a) for t, a in rows.all()]


def links_of(ticket: FeedbackTicket) -> list[feedback_links.LinkRef]:
    """The ticket's links, as stored (a malformed one is skipped)."""
    return [ref for raw in ticket.links or [] if (ref := feedback_links.parse_link(raw)) is not None]
