"""Child records across schools: the one rule, and the transfer that moves a record.

A school creates, updates and imports only the child records it holds
(`Child.school_id`); SNILS and birth certificates are unique within a school, not
across schools. When a school makes a record (an enrolment, a roster import, an
approved application) whose SNILS or birth certificate matches a record another
school holds, nothing of the other record is touched or shown: the new school works
on its own record, and a pending `ChildTransfer` asks the holding school's admins and
the child's guardians. The new school's answer is the same whether a match exists or
not. Confirmed (by the holding school's admin or a guardian), the new record merges
into the held one, which moves to the new school: one child, one history, every
guardian kept and told. Declined, the two records stay apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child, ChildTransfer, Enrollment, Guardianship
from ediary_gql.db.models.enums import ChildTransferStatus, NotificationKind
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, not_found
from ediary_gql.services import audit, notifications
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.school_time import school_today

MAX_REASON_LENGTH = 2000


def same_documents(*, snils: str | None, series: str | None, number: str | None) -> ColumnElement[bool] | None:
    """Records with this SNILS or this birth certificate (None: no document to match)."""
    conds: list[ColumnElement[bool]] = []
    if snils:
        conds.append(Child.snils == snils)
    if series and number:
        conds.append(and_(Child.birth_cert_series == series, Child.birth_cert_number == number))
    return or_(*conds) if conds else None


async def held_record(
    session: AsyncSession, school_id: int, *, snils: str | None, series: str | None, number: str | None
) -> Child | None:
    """The school's own record with this SNILS or birth certificate."""
    match = same_documents(snils=snils, series=series, number=number)
    if match is None:
        return None
    return (
        await session.scalars(select(Child).where(Child.school_id == school_id, match).order_by(Child.id).limit(1))
    ).first()


def _held_elsewhere(records: Sequence[Child], school_id: int) -> Select[Child]:
    snils = sorted({r.snils for r in records if r.snils})
    certs = sorted({(r.birth_cert_series, r.birth_cert_number) for r in records if r.birth_cert_number})
    conds: list[ColumnElement[bool]] = []
    if snils:
        conds.append(Child.snils.in_(snils))
    if certs:
        conds.append(tuple_(Child.birth_cert_series, Child.birth_cert_number).in_(certs))
    return (
        select(Child)
        .where(or_(*conds), or_(Child.school_id.is_(None), Child.school_id != school_id))
        .order_by(Child.id)
    )


async def offer_transfers(
    session: AsyncSession,
    *,
    records: Sequence[Child],
    school_id: int,
    requested_by_id: int | None,
    application_id: int | None = None,
) -> list[ChildTransfer]:
    """For new records of `school_id`: a pending transfer for each that another school
    holds a record of (same SNILS or birth certificate), told to that school's admins
    and to the child's guardians. One statement to look, whatever the number of records."""
    records = [r for r in records if r.snils or r.birth_cert_number]
    if not records:
        return []
    others = list((await session.scalars(_held_elsewhere(records, school_id))).all())
    if not others:
        return []
    asked = set(
        (
            await session.execute(
                select(ChildTransfer.child_id, ChildTransfer.record_id).where(
                    ChildTransfer.record_id.in_([r.id for r in records]),
                    ChildTransfer.status == ChildTransferStatus.PENDING,
                )
            )
        ).all()
    )
    school = await session.get_one(School, school_id)
    made: list[ChildTransfer] = []
    for record in records:
        held = next((o for o in others if _same_child(o, record)), None)
        if held is None or held.school_id is None or (held.id, record.id) in asked:
            continue
        transfer = ChildTransfer(
            child_id=held.id,
            record_id=record.id,
            from_school_id=held.school_id,
            to_school_id=school_id,
            requested_by_id=requested_by_id,
            application_id=application_id,
        )
        session.add(transfer)
        await session.flush()
        made.append(transfer)
        text = (
            f"{school.short_name or school.full_name} просит перевести к себе личное дело ребёнка "
            f"{held.full_name}. Подтвердите перевод или отклоните его в разделе «Переводы»."
        )
        told = [*await _guardians(session, held.id), *await notifications.school_admins(session, held.school_id)]
        await _tell(session, told, transfer, held, title="Запрос на перевод личного дела", body=text)
    return made


async def _tell(
    session: AsyncSession, users: Sequence[User], transfer: ChildTransfer, held: Child, *, title: str, body: str
) -> None:
    """A notice about the transfer to each of `users` once (a SECURITY notice: it is always sent)."""
    for user in {u.id: u for u in users}.values():
        await notifications.notify(
            session,
            user=user,
            kind=NotificationKind.SECURITY,
            title=title,
            body=body,
            payload={"childTransferId": transfer.id, "childId": held.id},
        )


def _same_child(held: Child, record: Child) -> bool:
    """A document in common, and the same surname and birth date: a document alone (a
    typo, a guess) does not bother another school's admins and a child's family."""
    if (held.birth_date, held.last_name.casefold()) != (record.birth_date, record.last_name.casefold()):
        return False
    if held.snils and held.snils == record.snils:
        return True
    return bool(held.birth_cert_number) and (held.birth_cert_series, held.birth_cert_number) == (
        record.birth_cert_series,
        record.birth_cert_number,
    )


async def _guardians(session: AsyncSession, child_id: int) -> list[User]:
    return list(
        (
            await session.scalars(
                select(User)
                .join(Guardianship, Guardianship.parent_id == User.id)
                .where(Guardianship.child_id == child_id)
                .order_by(User.id)
            )
        ).all()
    )


async def notify_guardians_of_new(session: AsyncSession, *, child: Child, new_parent_id: int) -> None:
    """Tell a child's other guardians that someone was made a guardian too."""
    parent = await session.get_one(User, new_parent_id)
    for user in await _guardians(session, child.id):
        if user.id == new_parent_id:
            continue
        await notifications.notify(
            session,
            user=user,
            kind=NotificationKind.SECURITY,
            title="Новый законный представитель",
            body=f"{parent.full_name} получил(а) доступ к дневнику ребёнка {child.full_name}.",
            payload={"childId": child.id},
        )


def visible_query(actor: Actor, status: ChildTransferStatus | None = None) -> Select[ChildTransfer]:
    """The transfers the actor decides on: those of their wards and of the schools they administer."""
    schools = actor.schools_with(*policy.CHILD_TRANSFER_ROLES)
    stmt = select(ChildTransfer)
    if not actor.is_system:
        stmt = stmt.where(
            or_(
                ChildTransfer.from_school_id.in_(sorted(schools)), ChildTransfer.child_id.in_(sorted(actor.guardian_of))
            )
        )
    if status is not None:
        stmt = stmt.where(ChildTransfer.status == status)
    return stmt


async def _decidable(session: AsyncSession, actor: Actor, transfer_id: int) -> ChildTransfer:
    """The transfer, locked, if the actor decides on it; NOT_FOUND alike for one that
    does not exist and one the actor may not see."""
    transfer = (
        await session.scalars(select(ChildTransfer).where(ChildTransfer.id == transfer_id).with_for_update())
    ).first()
    if transfer is None or not policy.can_decide_child_transfer(
        actor, from_school_id=transfer.from_school_id, child_id=transfer.child_id
    ):
        raise not_found("transferId", "Запрос на перевод не найден")
    if transfer.status != ChildTransferStatus.PENDING:
        raise DomainError(ErrorCode.INVALID_STATE, "Запрос на перевод уже рассмотрен", field="transferId")
    return transfer


async def confirm_transfer(
    session: AsyncSession, *, actor: Actor, transfer_id: int, now: dt.datetime | None = None
) -> ChildTransfer:
    """Merge the new school's record into the held one, which moves to the new school;
    the held record's enrolments at its school end the day before the new one starts."""
    transfer = await _decidable(session, actor, transfer_id)
    held = await session.get_one(Child, transfer.child_id, with_for_update=True)
    record = (
        await session.get(Child, transfer.record_id, with_for_update=True) if transfer.record_id is not None else None
    )
    if record is None or held.school_id != transfer.from_school_id or record.school_id != transfer.to_school_id:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "Личное дело уже изменилось: перевод по этому запросу невозможен",
            field="transferId",
        )
    match = same_documents(snils=held.snils, series=held.birth_cert_series, number=held.birth_cert_number)
    clash = match is not None and await session.scalar(
        select(Child.id).where(Child.school_id == transfer.to_school_id, Child.id != record.id, match).limit(1)
    )
    if clash:
        raise DomainError(
            ErrorCode.CONFLICT,
            "У школы, которая просит перевод, несколько личных дел с документами этого ребёнка: "
            "подтвердите перевод одного из них, когда школа оставит одно",
            field="transferId",
        )
    now = now or utcnow()
    before = {"schoolId": held.school_id, "childId": held.id, "recordId": record.id}
    already = {u.id for u in await _guardians(session, held.id)}
    incoming = [u.id for u in await _guardians(session, record.id) if u.id not in already]
    await _merge(session, transfer, keep=held, drop=record, today=await school_today(session, transfer.to_school_id))
    transfer.status = ChildTransferStatus.CONFIRMED
    transfer.decided_by_id = None if actor.is_system else actor.user_id
    transfer.decided_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="confirmChildTransfer",
        entity_type="ChildTransfer",
        entity_id=transfer.id,
        school_id=transfer.from_school_id,
        before=before,
        after={"schoolId": transfer.to_school_id, "childId": held.id},
    )
    school = await session.get_one(School, transfer.to_school_id)
    text = f"Личное дело ребёнка {held.full_name} переведено: {school.short_name or school.full_name}."
    told = [
        *await _guardians(session, held.id),
        *await notifications.school_admins(session, school.id),
        *await notifications.school_admins(session, transfer.from_school_id),
    ]
    await _tell(session, told, transfer, held, title="Личное дело переведено", body=text)
    for parent_id in incoming:  # the guardians the new school brought: the others hear of each
        await notify_guardians_of_new(session, child=held, new_parent_id=parent_id)
    return transfer


async def incoming_guardians(session: AsyncSession, transfer_ids: Sequence[int]) -> list[tuple[int, User]]:
    """(transfer id, user) for the guardians the asking school's record would bring to the
    child: what the one who confirms must see first."""
    rows = await session.execute(
        select(ChildTransfer.id, User)
        .join(Guardianship, Guardianship.child_id == ChildTransfer.record_id)
        .join(User, User.id == Guardianship.parent_id)
        .where(ChildTransfer.id.in_(list(transfer_ids)))
        .order_by(User.last_name, User.first_name, User.id)
    )
    return [(int(t), u) for t, u in rows.all()]


async def decline_transfer(
    session: AsyncSession, *, actor: Actor, transfer_id: int, reason: str | None, now: dt.datetime | None = None
) -> ChildTransfer:
    """Keep the two records apart. The new school is not told: to it, the answer stays
    the same as if no other school held the child."""
    transfer = await _decidable(session, actor, transfer_id)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise DomainError(ErrorCode.TOO_LONG, f"Не длиннее {MAX_REASON_LENGTH} символов", field="reason")
    transfer.status = ChildTransferStatus.DECLINED
    transfer.decided_by_id = None if actor.is_system else actor.user_id
    transfer.decided_at = now or utcnow()
    transfer.reason = reason
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="declineChildTransfer",
        entity_type="ChildTransfer",
        entity_id=transfer.id,
        school_id=transfer.from_school_id,
        after={"status": transfer.status.value, "reason": reason},
    )
    return transfer


def _references_to_children() -> list[tuple[str, str]]:
    """(table, column) of every foreign key to children.id, read from the models."""
    found: list[tuple[str, str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Child.__tablename__ and table.name != ChildTransfer.__tablename__:
                found.append((table.name, fk.parent.name))
    return found


async def _merge(session: AsyncSession, transfer: ChildTransfer, *, keep: Child, drop: Child, today: dt.date) -> None:
    # the old school kept the child until the transfer was confirmed: its enrolments end
    # the day before the later of the confirmation and the new school's first day (not
    # the start the new school chose: that would cut away the old school's record of them)
    first_new = await session.scalar(select(func.min(Enrollment.starts_on)).where(Enrollment.child_id == drop.id))
    moved_on = max(first_new or today, today)
    open_ones = await session.scalars(
        select(Enrollment).where(
            Enrollment.child_id == keep.id, or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= moved_on)
        )
    )
    ended: list[int] = []
    for enrollment in open_ones:
        enrollment.ends_on = max(enrollment.starts_on, moved_on - dt.timedelta(days=1))
        ended.append(enrollment.id)
    await session.flush()
    # the change feeds: the old school's enrolments ended; the new school's records of the
    # dropped child (enrolments, grades, marks) now name the kept one
    updated = ChangeAction.UPDATED
    change_feed.record(
        session, school_id=transfer.from_school_id, type=ChangeType.ENROLLMENT, ids=ended, action=updated
    )
    moved = {
        ChangeType.ENROLLMENT: select(Enrollment.id).where(Enrollment.child_id == drop.id),
        ChangeType.GRADE: select(Grade.id).where(Grade.child_id == drop.id),
        ChangeType.ATTENDANCE: select(Attendance.id).where(Attendance.child_id == drop.id),
    }
    for kind, ids in moved.items():
        change_feed.record(
            session, school_id=transfer.to_school_id, type=kind, ids=list(await session.scalars(ids)), action=updated
        )
    # a parent of both records stays one guardianship
    both = select(Guardianship.parent_id).where(Guardianship.child_id == keep.id).scalar_subquery()
    await session.execute(
        delete(Guardianship)
        .where(Guardianship.child_id == drop.id, Guardianship.parent_id.in_(both))
        .execution_options(synchronize_session=False)
    )
    for table_name, column in _references_to_children():
        table = Base.metadata.tables[table_name]
        await session.execute(update(table).where(table.c[column] == drop.id).values({column: keep.id}))
    await session.execute(update(ChildTransfer).where(ChildTransfer.child_id == drop.id).values(child_id=keep.id))
    await session.execute(update(ChildTransfer).where(ChildTransfer.record_id == drop.id).values(record_id=None))
    school_id, external_id, user_id = drop.school_id, drop.external_id, drop.user_id
    await session.execute(delete(Child).where(Child.id == drop.id))
    session.expunge(drop)
    keep.school_id = school_id
    keep.external_id = external_id
    if keep.user_id is None:
        keep.user_id = user_id
    await session.flush()
