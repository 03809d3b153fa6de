"""Inputs and payloads of school setup: years, subjects, control types, classes,
teachers, enrolments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay

from ediary_gql.resolvers.school_setup import EnrolledChild
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.types.academic_year import AcademicYear, PeriodKind
from ediary_gql.schema.types.school_class import Child, Enrollment, SchoolClass, Sex, TeachingAssignment
from ediary_gql.schema.types.subject import ControlType, Subject
from ediary_gql.services.school_setup.enrolment import Move
from ediary_gql.services.school_setup.teachers import Invitation


@strawberry.input(description="A named span of dates (a period or holidays), both days inclusive")
class DateRangeInput:
    name: str
    starts_on: dt.date
    ends_on: dt.date


@strawberry.input
class CreateAcademicYearInput:
    school_id: relay.GlobalID = node_id("School")
    name: str = strawberry.field(description='e.g. "2026/2027"')
    starts_on: dt.date
    ends_on: dt.date
    period_kind: PeriodKind  # type: ignore[valid-type]
    periods: list[DateRangeInput] = strawberry.field(description="4 quarters, 3 trimesters or 2 semesters")
    holidays: list[DateRangeInput] = strawberry.field(default_factory=list)


@strawberry.type
class CreateAcademicYearPayload(Payload):
    academic_year: AcademicYear | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateSubjectInput:
    school_id: relay.GlobalID = node_id("School")
    name: str
    short_name: str | None = None


@strawberry.type
class CreateSubjectPayload(Payload):
    subject: Subject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateControlTypeInput:
    school_id: relay.GlobalID = node_id("School")
    code: str = strawberry.field(description="Latin capitals, e.g. TEST, QUIZ, ORAL")
    name: str
    weight: Decimal = strawberry.field(description="Weight in weighted averages, > 0, up to 99.99")


@strawberry.type
class CreateControlTypePayload(Payload):
    control_type: ControlType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateClassInput:
    school_id: relay.GlobalID = node_id("School")
    academic_year_id: relay.GlobalID = node_id("AcademicYear")
    level: int = strawberry.field(description="1 to 11")
    letter: str = strawberry.field(description="One capital Cyrillic letter")
    homeroom_teacher_id: relay.GlobalID | None = node_id(
        "User", default=None, description="A teacher of the school (User)"
    )


@strawberry.type
class CreateClassPayload(Payload):
    school_class: SchoolClass | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Whom to invite: a phone, an email, or both")
class InviteTeacherInput:
    school_id: relay.GlobalID = node_id("School")
    phone: str | None = None
    email: str | None = None


@strawberry.type(description="A recorded invitation to teach at a school")
class TeacherInvitation:
    phone: str | None
    email: str | None
    created_at: dt.datetime
    account_exists: bool = strawberry.field(
        description="The contact belongs to an account: it got a notification; otherwise a message was sent"
    )


@strawberry.type
class InviteTeacherPayload(Payload):
    invitation: TeacherInvitation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: Invitation) -> Self:
        row = result.invitation
        return cls(
            invitation=TeacherInvitation(
                phone=row.phone,
                email=row.email,
                created_at=row.created_at,
                account_exists=result.existing_user is not None,
            )
        )


@strawberry.input
class AssignTeacherInput:
    teacher_id: relay.GlobalID = node_id("User")
    class_id: relay.GlobalID = node_id("SchoolClass")
    subject_id: relay.GlobalID = node_id("Subject")


@strawberry.type
class AssignTeacherPayload(Payload):
    assignment: TeachingAssignment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UnassignTeacherInput:
    assignment_id: relay.GlobalID = node_id("TeachingAssignment")


@strawberry.type
class UnassignTeacherPayload(Payload):
    removed_assignment_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: int) -> Self:  # the removed assignment's id
        return cls(removed_assignment_id=relay.GlobalID("TeachingAssignment", str(result)))


@strawberry.input
class BirthCertificateInput:
    series: str = strawberry.field(description="e.g. IV-АК")
    number: str = strawberry.field(description="6 digits")
    issued_on: dt.date | None = None


@strawberry.input(
    description="A child's data; the school's own record with this SNILS or birth certificate is found, "
    "else one is made"
)
class ChildInput:
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: dt.date
    sex: Sex  # type: ignore[valid-type]
    snils: str | None = None
    birth_certificate: BirthCertificateInput | None = None
    citizenship: str = "643"


@strawberry.input
class EnrollChildInput:
    class_id: relay.GlobalID = node_id("SchoolClass")
    child: ChildInput
    starts_on: dt.date


@strawberry.type
class EnrollChildPayload(Payload):
    enrollment: Enrollment | None = None
    child: Child | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: EnrolledChild) -> Self:
        child = result.child
        return cls(
            enrollment=Enrollment.from_row(result.enrollment),
            child=Child.from_row(child) if child is not None else None,
        )


@strawberry.input
class MoveChildInput:
    child_id: relay.GlobalID = node_id("Child")
    to_class_id: relay.GlobalID = node_id("SchoolClass")
    on: dt.date = strawberry.field(description="First day in the new class; the old enrolment ends the day before")


@strawberry.type
class MoveChildPayload(Payload):
    ended: Enrollment | None = None
    started: Enrollment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: Move) -> Self:
        return cls(ended=Enrollment.from_row(result.ended), started=Enrollment.from_row(result.started))
