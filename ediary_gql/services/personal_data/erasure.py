"""requestErasure and decideErasure: a person's data removed, as an operator decides.

The person asks (`request_erasure`); an operator approves or rejects it with the legal
holds stated (`decide_erasure`). Approved, in one transaction: the person's account,
contacts, sessions, notifications, messages, threads, applications, feedback and files
are removed (the files' bytes in storage once that transaction has committed); the
school's records of their children (grades, attendance) stay, with the child anonymised
as auth/personal_fields says (name replaced, documents and links to accounts gone);
every remaining text that still spells the person's name or contacts is scrubbed. A
person who holds a staff role keeps school records as staff (lessons, grades given):
their erasure is refused with that hold. The outcome (counts, never names) is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import personal_fields, policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.children import Child, Guardianship
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import OutboxMessage
from ediary_gql.db.models.personal_data import DataRequest, DataRequestKind, DataRequestStatus
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, forbidden, not_found
from ediary_gql.events.publish import after_commit
from ediary_gql.services import audit
from ediary_gql.services.notifications import notify
from ediary_gql.services.public_ids import camel
from ediary_gql.storage import Storage, StorageKeyError

ERASED = "[удалено]"
MAX_TEXT = 4000
# Rows a person made that go with them (their column naming the person).
PERSONAL_ROWS: tuple[tuple[str, str], ...] = (
    ("messages", "author_id"),
    ("threads", "created_by_id"),
    ("feedback_tickets", "author_id"),
    ("homework_completions", "marked_by_id"),
    ("applications", "applicant_id"),
)
STAFF_HOLD = (
    "Пользователь — сотрудник школы: уроки, оценки и записи, сделанные им как сотрудником, "
    "хранятся школой в течение установленного срока"
)
REFUSED = "Удаление данных запрашивает сам человек"
DECIDE_REFUSED = "Запросы на удаление данных рассматривают операторы портала"


class ErasureDecision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


async def _is_staff(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(select(StaffMembership.id).where(StaffMembership.user_id == user_id).limit(1))
    return found is not None


async def request_erasure(
    session: AsyncSession, *, actor: Actor, reason: str | None, include_children: bool
) -> DataRequest:
    """Ask for the actor's data to be erased (with `include_children`, their children's
    records anonymised too, where they are the only guardian)."""
    if not policy.can_request_own_data(actor):
        raise forbidden(REFUSED)
    errors = ErrorCollector()
    if reason is not None and len(reason) > MAX_TEXT:
        errors.add("reason", ErrorCode.INVALID, f"Не больше {MAX_TEXT} символов")
    pending = await session.scalar(
        select(DataRequest.id).where(
            DataRequest.requester_id == actor.user_id,
            DataRequest.kind == DataRequestKind.ERASURE,
            DataRequest.status.in_((DataRequestStatus.SUBMITTED, DataRequestStatus.APPROVED)),
        )
    )
    if pending is not None:
        errors.add((), ErrorCode.CONFLICT, "Запрос на удаление ваших данных уже рассматривается")
    if actor.is_operator or await _is_staff(session, actor.user_id):
        errors.add((), ErrorCode.INVALID, STAFF_HOLD)
    errors.raise_if_any()
    request = DataRequest(
        kind=DataRequestKind.ERASURE,
        requester_id=actor.user_id,
        subject_user_id=actor.user_id,
        status=DataRequestStatus.SUBMITTED,
        include_children=include_children,
        reason=reason.strip() if reason and reason.strip() else None,
        attempts=0,
    )
    session.add(request)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="requestErasure",
        entity_type="DataRequest",
        entity_id=request.id,
        after={"status": request.status.value, "includeChildren": include_children, "subjectUserId": actor.user_id},
    )
    return request


def erasure_queue_query(actor: Actor) -> Any:
    """Erasure requests waiting for a decision, oldest first; for operators."""
    if not (actor.is_operator or actor.is_system):
        raise forbidden(DECIDE_REFUSED)
    return (
        select(DataRequest)
        .where(DataRequest.kind == DataRequestKind.ERASURE, DataRequest.status == DataRequestStatus.SUBMITTED)
        .order_by(DataRequest.id)
    )


async def decide_erasure(
    session: AsyncSession,
    *,
    actor: Actor,
    request_id: int,
    decision: ErasureDecision,
    holds: str,
    comment: str | None,
    storage: Storage | None = None,
) -> DataRequest:
    """Approve (and carry out) or reject an erasure request; `holds` states what is kept
    and on which legal ground."""
    request = await session.get(DataRequest, request_id, with_for_update=True)
    if request is None or request.kind is not DataRequestKind.ERASURE:
        raise not_found("requestId", "Запрос на удаление не найден")
    if not policy.can_decide_erasure(actor, requester_id=request.requester_id):
        raise forbidden(DECIDE_REFUSED)
    errors = ErrorCollector()
    if not holds.strip():
        errors.add("holds", ErrorCode.REQUIRED, "Укажите, какие данные хранятся по закону и на каком основании")
    elif len(holds) > MAX_TEXT:
        errors.add("holds", ErrorCode.INVALID, f"Не больше {MAX_TEXT} символов")
    if comment is not None and len(comment) > MAX_TEXT:
        errors.add("comment", ErrorCode.INVALID, f"Не больше {MAX_TEXT} символов")
    if request.status is not DataRequestStatus.SUBMITTED:
        errors.add("requestId", ErrorCode.CONFLICT, "Запрос уже рассмотрен")
    errors.raise_if_any()
    subject = request.subject_user_id
    if decision is ErasureDecision.APPROVE and subject is not None and await _is_staff(session, subject):
        raise DomainError(ErrorCode.INVALID, STAFF_HOLD, field="decision")
    now = utcnow()
    request.decided_by_id = actor.user_id if not actor.is_system else None
    request.decided_at = now
    request.holds = holds.strip()
    request.decision_comment = comment.strip() if comment and comment.strip() else None
    if decision is ErasureDecision.REJECT:
        request.status = DataRequestStatus.REJECTED
        user = await session.get(User, subject) if subject is not None else None
        if user is not None:
            await notify(
                session,
                user=user,
                kind=NotificationKind.PERSONAL_DATA,
                title="Запрос на удаление данных отклонён",
                body=f"Основание: {request.holds}",
                payload={"data_request_id": request.id, "status": request.status.value},
            )
        outcome: dict[str, Any] = {}
    else:
        outcome = await erase(session, user_id=subject, include_children=request.include_children, storage=storage)
        request.status = DataRequestStatus.DONE
        request.finished_at = now
        request.outcome = outcome
        request.reason = None  # the requester's words may name them
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="decideErasure",
        entity_type="DataRequest",
        entity_id=request.id,
        before={"status": DataRequestStatus.SUBMITTED.value},
        after={"status": request.status.value, "decision": decision.value, "outcome": outcome},
    )
    return request


# --- the erasure itself -------------------------------------------------------------------


def _needles(user: User, children: Iterable[Child]) -> list[str]:
    """The strings that spell the person (and the anonymised children) in free text."""
    found: list[str] = []
    people = [(user.last_name, user.first_name, user.middle_name)]
    people += [(c.last_name, c.first_name, c.middle_name) for c in children]
    for last, first, middle in people:
        found += [f"{last} {first} {middle}" if middle else "", f"{last} {first}", f"{first} {last}"]
        if middle:
            found.append(f"{first} {middle}")
    found += [v for v in (user.phone, user.email) if v]
    for c in children:
        found += [v for v in (c.snils, c.birth_cert_number) if v]
    # the longest first, so a full name goes whole before its parts
    return sorted({n for n in found if len(n) >= 4}, key=len, reverse=True)


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, ERASED)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    return value


def _like(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def scrub_everywhere(session: AsyncSession, needles: list[str]) -> int:
    """Replace every needle in every text and JSON column of every table; rows changed.
    A full scan of each such column: an erasure is rare, and nothing may be missed."""
    if not needles:
        return 0
    changed = 0
    # JSON keeps non-ASCII escaped ("\u0418…"): look for both spellings
    patterns = sorted({_like(n) for n in needles} | {_like(json.dumps(n)[1:-1]) for n in needles})
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        for column in table.columns:
            if isinstance(column.type, JSON):
                text_of: Any = cast(column, Text)
            elif isinstance(column.type, String | Text) and not isinstance(column.type, JSON):
                text_of = column
            else:
                continue
            if column.type.__class__.__name__ == "Enum":
                continue
            rows = (
                await session.execute(
                    select(pk[0], column).where(or_(*(text_of.like(p, escape="\\") for p in patterns)))
                )
            ).all()
            for key, value in rows:
                await session.execute(update(table).where(pk[0] == key).values({column.key: _scrub(value, needles)}))
                changed += 1
    return changed


def _attachment_links() -> list[tuple[Table, Any]]:
    return [
        (table, fk.parent)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "attachments" and table.name != "attachments"
    ]


async def _sole_children(session: AsyncSession, user_id: int) -> list[Child]:
    """The children the person is the only guardian of, and their own record as a student."""
    theirs = select(Guardianship.child_id).where(Guardianship.parent_id == user_id)
    others = select(Guardianship.child_id).where(Guardianship.parent_id != user_id)
    rows = await session.scalars(
        select(Child).where(or_(Child.id.in_(theirs), Child.user_id == user_id), Child.id.not_in(others))
    )
    return list(rows.all())


def _anonymised_birth_date(born: dt.date) -> dt.date:
    return dt.date(born.year, 1, 1)  # the year stays for the school's statistics


async def _anonymise_children(session: AsyncSession, children: list[Child]) -> None:
    values: dict[str, Any] = {}
    for f in personal_fields.FIELDS:
        if f.table != "children":
            continue
        if f.on_erasure is personal_fields.OnErasure.CLEAR:
            values.update(dict.fromkeys(f.columns))
        elif f.on_erasure is personal_fields.OnErasure.ANONYMISE and f.key == "Child.name":
            values.update({"last_name": f.anonymised_as, "first_name": f.anonymised_as, "middle_name": None})
    values.update({"user_id": None, "external_id": None})
    for child in children:
        await session.execute(
            update(Child)
            .where(Child.id == child.id)
            .values(**values, birth_date=_anonymised_birth_date(child.birth_date))
            .execution_options(synchronize_session=False)
        )


async def erase(
    session: AsyncSession, *, user_id: int | None, include_children: bool, storage: Storage | None = None
) -> dict[str, Any]:
    """Remove the person and what is theirs, anonymise their children's records (with
    `include_children`); counts of what was done, by table. Their files are deleted from
    `storage` after the commit (events.publish.after_commit), never before."""
    outcome: dict[str, Any] = {}
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        return {"users": 0}
    children = await _sole_children(session, user.id) if include_children else []
    # a student's own child record is anonymised with their account in any case
    if not include_children:
        own = await session.scalar(select(Child).where(Child.user_id == user.id))
        children = [own] if own is not None else []
    needles = _needles(user, children)
    owned = await session.execute(select(Attachment.id, Attachment.storage_key).where(Attachment.owner_id == user.id))
    files = [(int(row[0]), str(row[1])) for row in owned.all()]
    file_ids = [f[0] for f in files]
    if file_ids:
        for table, column in _attachment_links():
            await session.execute(delete(table).where(column.in_(file_ids)))
    for table_name, column_name in PERSONAL_ROWS:
        table = Base.metadata.tables[table_name]
        result = await session.execute(delete(table).where(table.c[column_name] == user.id))
        outcome[table_name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if file_ids:
        await session.execute(delete(Attachment).where(Attachment.id.in_(file_ids)))
    outcome["attachments"] = len(file_ids)
    contacts = [c for c in (user.phone, user.email) if c]
    if contacts:
        sent = await session.execute(delete(OutboxMessage).where(OutboxMessage.address.in_(contacts)))
        outcome["outbox_messages"] = int(sent.rowcount or 0)  # type: ignore[attr-defined]
    # the entries about the account keep what was done and when, not the values
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.entity_type == "User", AuditEntry.entity_id == user.id)
        .values(before=None, after=None)
        .execution_options(synchronize_session=False)
    )
    await _anonymise_children(session, children)
    outcome["children_anonymised"] = len(children)
    await session.execute(delete(User).where(User.id == user.id))
    outcome["users"] = 1
    session.expunge(user)
    outcome["texts_scrubbed"] = await scrub_everywhere(session, needles)
    # named as clients read audit entries (camelCase)
    outcome = {camel(k): v for k, v in outcome.items()}
    if storage is not None and files:
        # The bytes go once the rows are gone for good: a rollback keeps both.
        after_commit(session, functools.partial(_delete_files, storage, [key for _, key in files]))
    return outcome


async def _delete_files(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(StorageKeyError):  # gone already
            await storage.delete(key)


async def count_rows(session: AsyncSession, table: Table) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)
