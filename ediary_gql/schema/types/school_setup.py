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
    name: str = strawberry.field(description="The name people see")
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date = strawberry.field(description="Last day, inclusive")


@strawberry.input(description="A school's academic year: its dates and the kind and dates of its periods")
class CreateAcademicYearInput:
    school_id: relay.GlobalID = node_id("School")
    name: str = strawberry.field(description='e.g. "2026/2027"')
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date = strawberry.field(description="Last day, inclusive")
    period_kind: PeriodKind = strawberry.field(description="How the year is divided")  # type: ignore[valid-type]
    periods: list[DateRangeInput] = strawberry.field(description="4 quarters, 3 trimesters or 2 semesters")
    holidays: list[DateRangeInput] = strawberry.field(default_factory=list, description="The year's holidays")


@strawberry.type(description="The new academic year with its periods, or why it was refused")
class CreateAcademicYearPayload(Payload):
    academic_year: AcademicYear | None = strawberry.field(
        default=None, description="The academic year as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="A subject the school teaches: its name and short name")
class CreateSubjectInput:
    school_id: relay.GlobalID = node_id("School")
    name: str = strawberry.field(description="The name people see")
    short_name: str | None = strawberry.field(default=None, description="Short name, as shown in lists")


@strawberry.type(description="The new subject, or why it was refused")
class CreateSubjectPayload(Payload):
    subject: Subject | None = strawberry.field(
        default=None, description="The subject as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="A kind of graded work at a school, with its weight in weighted averages")
class CreateControlTypeInput:
    school_id: relay.GlobalID = node_id("School")
    code: str = strawberry.field(description="Latin capitals, e.g. TEST, QUIZ, ORAL")
    name: str = strawberry.field(description="The name people see")
    weight: Decimal = strawberry.field(description="Weight in weighted averages, > 0, up to 99.99")


@strawberry.type(description="The new kind of graded work, or why it was refused")
class CreateControlTypePayload(Payload):
    control_type: ControlType | None = strawberry.field(
        default=None, description="The control type as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="A class of a school year: level 1–11, letter and homeroom teacher")
class CreateClassInput:
    school_id: relay.GlobalID = node_id("School")
    academic_year_id: relay.GlobalID = node_id("AcademicYear")
    level: int = strawberry.field(description="1 to 11")
    letter: str = strawberry.field(description="One capital Cyrillic letter")
    homeroom_teacher_id: relay.GlobalID | None = node_id(
        "User", default=None, description="A teacher of the school (User)"
    )


@strawberry.type(description="The new class, or why it was refused")
class CreateClassPayload(Payload):
    school_class: SchoolClass | None = strawberry.field(
        default=None, description="The school class as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="Whom to invite: a phone, an email, or both")
class InviteTeacherInput:
    school_id: relay.GlobalID = node_id("School")
    phone: str | None = strawberry.field(default=None, description="Phone number")
    email: str | None = strawberry.field(default=None, description="Email address")


@strawberry.type(description="A recorded invitation to teach at a school")
class TeacherInvitation:
    phone: str | None = strawberry.field(description="Phone number")
    email: str | None = strawberry.field(description="Email address")
    created_at: dt.datetime = strawberry.field(description="When the teacher invitation was created")
    account_exists: bool = strawberry.field(
        description="The contact belongs to an account: it got a notification; otherwise a message was sent"
    )


@strawberry.type(description="The invitation sent to the teacher, or why it was refused")
class InviteTeacherPayload(Payload):
    invitation: TeacherInvitation | None = strawberry.field(
        default=None, description="The invitation as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

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


@strawberry.input(description="Who teaches which subject in which class")
class AssignTeacherInput:
    teacher_id: relay.GlobalID = node_id("User")
    class_id: relay.GlobalID = node_id("SchoolClass")
    subject_id: relay.GlobalID = node_id("Subject")


@strawberry.type(description="The new teaching assignment (teacher × class × subject), or why it was refused")
class AssignTeacherPayload(Payload):
    assignment: TeachingAssignment | None = strawberry.field(
        default=None, description="The assignment as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="The teaching assignment to end")
class UnassignTeacherInput:
    assignment_id: relay.GlobalID = node_id("TeachingAssignment")


@strawberry.type(description="The teaching assignment that was ended, or why it was refused")
class UnassignTeacherPayload(Payload):
    removed_assignment_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The removed assignment id as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: int) -> Self:  # the removed assignment's id
        return cls(removed_assignment_id=relay.GlobalID("TeachingAssignment", str(result)))


@strawberry.input(description="A birth certificate's series, number and date of issue")
class BirthCertificateInput:
    series: str = strawberry.field(description="e.g. IV-АК")
    number: str = strawberry.field(description="6 digits")
    issued_on: dt.date | None = strawberry.field(default=None, description="Date of issue")


@strawberry.input(
    description="A child's data; the school's own record with this SNILS or birth certificate is found, "
    "else one is made"
)
class ChildInput:
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(default=None, description="Patronymic, if any")
    birth_date: dt.date = strawberry.field(description="Date of birth")
    sex: Sex = strawberry.field(description="The child's sex")  # type: ignore[valid-type]
    snils: str | None = strawberry.field(default=None, description="SNILS (11 digits, checksum checked), if known")
    birth_certificate: BirthCertificateInput | None = strawberry.field(
        default=None, description="The child's birth certificate"
    )
    citizenship: str = strawberry.field(default="643", description="Citizenship as a country code")


@strawberry.input(description="A child and the class to enrol them in")
class EnrollChildInput:
    class_id: relay.GlobalID = node_id("SchoolClass")
    child: ChildInput = strawberry.field(description="The child to enrol (made if new)")
    starts_on: dt.date = strawberry.field(description="First day, inclusive")


@strawberry.type(description="The child's new enrolment, or why it was refused")
class EnrollChildPayload(Payload):
    enrollment: Enrollment | None = strawberry.field(
        default=None, description="The enrollment as it now is; null when the input was refused"
    )
    child: Child | None = strawberry.field(
        default=None, description="The child as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: EnrolledChild) -> Self:
        child = result.child
        return cls(
            enrollment=Enrollment.from_row(result.enrollment),
            child=Child.from_row(child) if child is not None else None,
        )


@strawberry.input(description="A child and the class of the same school to move them to")
class MoveChildInput:
    child_id: relay.GlobalID = node_id("Child")
    to_class_id: relay.GlobalID = node_id("SchoolClass")
    on: dt.date = strawberry.field(description="First day in the new class; the old enrolment ends the day before")


@strawberry.type(description="The child's enrolment in the new class, or why the move was refused")
class MoveChildPayload(Payload):
    ended: Enrollment | None = strawberry.field(
        default=None, description="The ended as it now is; null when the input was refused"
    )
    started: Enrollment | None = strawberry.field(
        default=None, description="The started as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: Move) -> Self:
        return cls(ended=Enrollment.from_row(result.ended), started=Enrollment.from_row(result.started))
