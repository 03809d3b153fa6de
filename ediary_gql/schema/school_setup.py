"""Root fields of school setup and roster imports (part of the schools area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import school_setup
from ediary_gql.schema.types.academic_year import AcademicYear, Holiday, Period
from ediary_gql.schema.types.child import Child, Enrollment
from ediary_gql.schema.types.school_class import SchoolClass, TeachingAssignment
from ediary_gql.schema.types.school_setup import (
    AssignTeacherPayload,
    CreateAcademicYearPayload,
    CreateClassPayload,
    CreateControlTypePayload,
    CreateSubjectPayload,
    EnrollChildPayload,
    InviteTeacherPayload,
    MoveChildPayload,
    UnassignTeacherPayload,
)
from ediary_gql.schema.types.subject import ControlType, Subject

# Reached through `node(id:)` and fields of other types: listed so the schema knows them.
SCHOOL_SETUP_TYPES: list[type] = [
    AcademicYear,
    Period,
    Holiday,
    Subject,
    ControlType,
    SchoolClass,
    TeachingAssignment,
    Child,
    Enrollment,
]


_ADMIN = " (the school's admin only)"


@strawberry.type
class SchoolSetupMutation:
    create_academic_year: CreateAcademicYearPayload = strawberry.mutation(
        resolver=school_setup.create_academic_year,
        description="An academic year with its periods and holidays" + _ADMIN,
    )
    create_subject: CreateSubjectPayload = strawberry.mutation(
        resolver=school_setup.create_subject, description="A subject" + _ADMIN
    )
    create_control_type: CreateControlTypePayload = strawberry.mutation(
        resolver=school_setup.create_control_type, description="A control type with its weight" + _ADMIN
    )
    create_class: CreateClassPayload = strawberry.mutation(
        resolver=school_setup.create_class, description='A class such as "5А" in an academic year' + _ADMIN
    )
    invite_teacher: InviteTeacherPayload = strawberry.mutation(
        resolver=school_setup.invite_teacher,
        description="Invite a teacher by phone or email; their staff-binding request then shows as invited" + _ADMIN,
    )
    assign_teacher: AssignTeacherPayload = strawberry.mutation(
        resolver=school_setup.assign_teacher, description="A teacher teaches a subject in a class" + _ADMIN
    )
    unassign_teacher: UnassignTeacherPayload = strawberry.mutation(
        resolver=school_setup.unassign_teacher, description="Remove a teaching assignment" + _ADMIN
    )
    enroll_child: EnrollChildPayload = strawberry.mutation(
        resolver=school_setup.enroll_child,
        description="Enrol a child (found by SNILS or birth certificate, else created) in a class" + _ADMIN,
    )
    move_child: MoveChildPayload = strawberry.mutation(
        resolver=school_setup.move_child,
        description="Move a child to another class from a date; both enrolments are kept" + _ADMIN,
    )
