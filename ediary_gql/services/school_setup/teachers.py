"""Teachers: invitations to join the school, and assignments to a class × subject."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import Subject, TeachingAssignment
from ediary_gql.db.models.enums import Channel, NotificationKind, StaffRole
from ediary_gql.db.models.school_setup import TeacherInvitation
from ediary_gql.db.models.schools import School, StaffBinding
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.diary_facts import is_assigned
from ediary_gql.services.notifications import notify
from ediary_gql.services.school_setup.checks import clean_text, get_class, is_active_teacher, require_setup


@dataclass(frozen=True, slots=True)
class Invitation:
    """What was recorded, and, for a contact with no account, the message to send
    once the transaction has committed (an account gets a notification instead)."""

    invitation: TeacherInvitation
    existing_user: User | None
    outside_message: tuple[Channel, str, str, str] | None  # channel, address, subject, body


async def invite_teacher(
    session: AsyncSession, *, actor: Actor, school_id: int, phone: str | None, email: str | None
) -> Invitation:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_phone = clean_email = None
    if clean_text(phone) is None and clean_text(email) is None:
        errors.add("phone", ErrorCode.REQUIRED, "Укажите телефон или электронную почту")
    if clean_text(phone) is not None:
        clean_phone = errors.check(lambda: normalize_phone(phone or ""))
    if clean_text(email) is not None:
        clean_email = errors.check(lambda: normalize_email(email or ""))
    errors.raise_if_any()
    school = await session.get(School, school_id)
    if school is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="schoolId")
    conds = []
    if clean_phone:
        conds.append(User.phone == clean_phone)
    if clean_email:
        conds.append(User.email == clean_email)
    user = (await session.scalars(select(User).where(or_(*conds)).limit(1))).first()
    if user is not None and await is_active_teacher(session, user.id, school_id):
        raise DomainError(
            ErrorCode.CONFLICT, "Этот человек уже учитель школы", field="phone" if clean_phone else "email"
        )
    invitation = TeacherInvitation(
        school_id=school_id,
        invited_by_id=None if actor.is_system else actor.user_id,
        phone=clean_phone,
        email=clean_email,
        user_id=user.id if user else None,
    )
    session.add(invitation)
    await session.flush()
    title = f"Приглашение в электронный дневник: {school.short_name}"
    body = (
        f"Школа «{school.short_name}» приглашает вас вести электронный дневник как учителя. "
        f"Войдите в дневник и подайте заявку на привязку к школе (роль «Учитель»): "
        f"она будет отмечена как приглашённая."
    )
    outside = None
    if user is not None:
        await notify(
            session,
            user=user,
            kind=NotificationKind.STAFF_BINDING,
            title=title,
            body=body,
            payload={"schoolId": school_id, "invitationId": invitation.id},
        )
    else:
        register = " Сначала зарегистрируйтесь с этим телефоном или адресом почты."
        if clean_email:
            outside = (Channel.EMAIL, clean_email, title, body + register)
        elif clean_phone:
            outside = (Channel.SMS, clean_phone, title, body + register)
    audit.record(
        session,
        actor=actor,
        action="inviteTeacher",
        entity_type="TeacherInvitation",
        entity_id=invitation.id,
        school_id=school_id,
        after={"phone": clean_phone, "email": clean_email, "userId": invitation.user_id},
    )
    return Invitation(invitation=invitation, existing_user=user, outside_message=outside)


async def invited_binding_ids(session: AsyncSession, binding_ids: Sequence[int]) -> set[int]:
    """Of these staff bindings, those for TEACHER whose requester was invited to that
    school (by the account, its phone or its email)."""
    if not binding_ids:
        return set()
    rows = await session.execute(
        select(StaffBinding.id)
        .join(User, User.id == StaffBinding.user_id)
        .join(
            TeacherInvitation,
            and_(
                TeacherInvitation.school_id == StaffBinding.school_id,
                or_(
                    TeacherInvitation.user_id == User.id,
                    TeacherInvitation.phone == User.phone,
                    TeacherInvitation.email == User.email,
                ),
            ),
        )
        .where(StaffBinding.id.in_(binding_ids), StaffBinding.role == StaffRole.TEACHER)
    )
    return {i for (i,) in rows.all()}


async def assign_teacher(
    session: AsyncSession, *, actor: Actor, teacher_id: int, class_id: int, subject_id: int
) -> TeachingAssignment:
    klass = await get_class(session, class_id, field="classId")
    require_setup(actor, klass.school_id)
    errors = ErrorCollector()
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != klass.school_id:
        errors.add("subjectId", ErrorCode.NOT_FOUND, "Предмет этой школы не найден")
    if not await is_active_teacher(session, teacher_id, klass.school_id):
        errors.add("teacherId", ErrorCode.INVALID, "Назначить можно только действующего учителя этой школы")
    if not errors and await is_assigned(session, teacher_id=teacher_id, class_id=class_id, subject_id=subject_id):
        errors.add("teacherId", ErrorCode.DUPLICATE, "Учитель уже ведёт этот предмет в этом классе")
    errors.raise_if_any()
    row = TeachingAssignment(teacher_id=teacher_id, class_id=class_id, subject_id=subject_id)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="assignTeacher",
        entity_type="TeachingAssignment",
        entity_id=row.id,
        school_id=klass.school_id,
        after={"teacherId": teacher_id, "classId": class_id, "subjectId": subject_id},
    )
    return row


async def unassign_teacher(session: AsyncSession, *, actor: Actor, assignment_id: int) -> TeachingAssignment:
    row = await session.get(TeachingAssignment, assignment_id)
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Назначение не найдено", field="assignmentId")
    klass = await get_class(session, row.class_id, field="assignmentId")
    require_setup(actor, klass.school_id)
    before = {"teacherId": row.teacher_id, "classId": row.class_id, "subjectId": row.subject_id}
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="unassignTeacher",
        entity_type="TeachingAssignment",
        entity_id=assignment_id,
        school_id=klass.school_id,
        before=before,
    )
    return row
