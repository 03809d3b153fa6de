"""Thin resolvers of school setup: translate input, call the service, shape the payload."""

from __future__ import annotations

import strawberry
import structlog
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.academic_year import AcademicYear
from ediary_gql.schema.types.child import Child, Enrollment
from ediary_gql.schema.types.school_class import SchoolClass, TeachingAssignment
from ediary_gql.schema.types.school_setup import (
    AssignTeacherInput,
    AssignTeacherPayload,
    CreateAcademicYearInput,
    CreateAcademicYearPayload,
    CreateClassInput,
    CreateClassPayload,
    CreateControlTypeInput,
    CreateControlTypePayload,
    CreateSubjectInput,
    CreateSubjectPayload,
    EnrollChildInput,
    EnrollChildPayload,
    InviteTeacherInput,
    InviteTeacherPayload,
    MoveChildInput,
    MoveChildPayload,
    TeacherInvitation,
    UnassignTeacherInput,
    UnassignTeacherPayload,
)
from ediary_gql.schema.types.subject import ControlType, Subject
from ediary_gql.services.delivery.channels import DeliveryError, build_channels
from ediary_gql.services.school_setup import academic_years, children, classes, enrolment, subjects, teachers

Info = strawberry.Info[Context, None]
log = structlog.get_logger(__name__)


async def create_academic_year(info: Info, input: CreateAcademicYearInput) -> CreateAcademicYearPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        data = academic_years.NewAcademicYear(
            school_id=school_id,
            name=input.name,
            starts_on=input.starts_on,
            ends_on=input.ends_on,
            period_kind=enums.PeriodKind(input.period_kind),
            periods=[academic_years.DateRange(p.name, p.starts_on, p.ends_on) for p in input.periods],
            holidays=[academic_years.DateRange(h.name, h.starts_on, h.ends_on) for h in input.holidays],
        )
        async with transaction(info.context) as session:
            row = await academic_years.create_academic_year(session, actor=actor, data=data)
    except DomainError as exc:
        return CreateAcademicYearPayload(user_errors=user_errors(exc))
    return CreateAcademicYearPayload(academic_year=AcademicYear.from_row(row))


async def create_subject(info: Info, input: CreateSubjectInput) -> CreateSubjectPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        async with transaction(info.context) as session:
            row = await subjects.create_subject(
                session, actor=actor, school_id=school_id, name=input.name, short_name=input.short_name
            )
    except DomainError as exc:
        return CreateSubjectPayload(user_errors=user_errors(exc))
    return CreateSubjectPayload(subject=Subject.from_row(row))


async def create_control_type(info: Info, input: CreateControlTypeInput) -> CreateControlTypePayload:
    actor = policy.require_actor(info.context.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        async with transaction(info.context) as session:
            row = await subjects.create_control_type(
                session, actor=actor, school_id=school_id, code=input.code, name=input.name, weight=input.weight
            )
    except DomainError as exc:
        return CreateControlTypePayload(user_errors=user_errors(exc))
    return CreateControlTypePayload(control_type=ControlType.from_row(row))


async def create_class(info: Info, input: CreateClassInput) -> CreateClassPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        year_id = pk_of(input.academic_year_id, "AcademicYear", field="academicYearId")
        teacher_id = (
            pk_of(input.homeroom_teacher_id, "User", field="homeroomTeacherId")
            if input.homeroom_teacher_id is not None
            else None
        )
        async with transaction(info.context) as session:
            row = await classes.create_class(
                session,
                actor=actor,
                school_id=school_id,
                academic_year_id=year_id,
                level=input.level,
                letter=input.letter,
                homeroom_teacher_id=teacher_id,
            )
    except DomainError as exc:
        return CreateClassPayload(user_errors=user_errors(exc))
    return CreateClassPayload(school_class=SchoolClass.from_row(row))


async def invite_teacher(info: Info, input: InviteTeacherInput) -> InviteTeacherPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        async with transaction(ctx) as session:
            result = await teachers.invite_teacher(
                session, actor=actor, school_id=school_id, phone=input.phone, email=input.email
            )
    except DomainError as exc:
        return InviteTeacherPayload(user_errors=user_errors(exc))
    if result.outside_message is not None:
        # No account to notify: the message goes out once the invitation is committed.
        channel, address, subject, body = result.outside_message
        sender = build_channels(ctx.settings, ctx.session_factory).get(channel)
        try:
            if sender is None:
                raise DeliveryError(f"no {channel} provider")
            await sender.send(address=address, subject=subject, body=body)
        except DeliveryError as exc:
            log.warning("invitation_not_sent", channel=channel.value, error=str(exc))
    row = result.invitation
    return InviteTeacherPayload(
        invitation=TeacherInvitation(
            phone=row.phone, email=row.email, created_at=row.created_at, account_exists=result.existing_user is not None
        )
    )


async def assign_teacher(info: Info, input: AssignTeacherInput) -> AssignTeacherPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        teacher_id = pk_of(input.teacher_id, "User", field="teacherId")
        class_id = pk_of(input.class_id, "SchoolClass", field="classId")
        subject_id = pk_of(input.subject_id, "Subject", field="subjectId")
        async with transaction(info.context) as session:
            row = await teachers.assign_teacher(
                session, actor=actor, teacher_id=teacher_id, class_id=class_id, subject_id=subject_id
            )
    except DomainError as exc:
        return AssignTeacherPayload(user_errors=user_errors(exc))
    return AssignTeacherPayload(assignment=TeachingAssignment.from_row(row))


async def unassign_teacher(info: Info, input: UnassignTeacherInput) -> UnassignTeacherPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        assignment_id = pk_of(input.assignment_id, "TeachingAssignment", field="assignmentId")
        async with transaction(info.context) as session:
            await teachers.unassign_teacher(session, actor=actor, assignment_id=assignment_id)
    except DomainError as exc:
        return UnassignTeacherPayload(user_errors=user_errors(exc))
    return UnassignTeacherPayload(removed_assignment_id=relay.GlobalID("TeachingAssignment", str(assignment_id)))


async def enroll_child(info: Info, input: EnrollChildInput) -> EnrollChildPayload:
    actor = policy.require_actor(info.context.actor)
    c = input.child
    cert = c.birth_certificate
    try:
        class_id = pk_of(input.class_id, "SchoolClass", field="classId")
        data = children.ChildData(
            last_name=c.last_name,
            first_name=c.first_name,
            middle_name=c.middle_name,
            birth_date=c.birth_date,
            sex=enums.Sex(c.sex),
            snils=c.snils,
            cert_series=cert.series if cert else None,
            cert_number=cert.number if cert else None,
            cert_issued_on=cert.issued_on if cert else None,
            citizenship=c.citizenship,
        )
        async with transaction(info.context) as session:
            row = await enrolment.enroll_child(
                session, actor=actor, class_id=class_id, child=data, starts_on=input.starts_on
            )
            child = await session.get(ChildRow, row.child_id)
    except DomainError as exc:
        return EnrollChildPayload(user_errors=user_errors(exc))
    return EnrollChildPayload(
        enrollment=Enrollment.from_row(row), child=Child.from_row(child) if child is not None else None
    )


async def move_child(info: Info, input: MoveChildInput) -> MoveChildPayload:
    actor = policy.require_actor(info.context.actor)
    try:
        child_id = pk_of(input.child_id, "Child", field="childId")
        class_id = pk_of(input.to_class_id, "SchoolClass", field="toClassId")
        async with transaction(info.context) as session:
            move = await enrolment.move_child(
                session, actor=actor, child_id=child_id, to_class_id=class_id, on=input.on
            )
    except DomainError as exc:
        return MoveChildPayload(user_errors=user_errors(exc))
    return MoveChildPayload(ended=Enrollment.from_row(move.ended), started=Enrollment.from_row(move.started))
