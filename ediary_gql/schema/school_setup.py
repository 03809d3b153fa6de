"""Root fields of school setup (part of the schools area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import school_setup
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.academic_year import AcademicYear, Holiday, Period
from ediary_gql.schema.types.school_class import Child, Enrollment, SchoolClass, TeachingAssignment
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
    UnassignTeacherInput,
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
    create_academic_year: CreateAcademicYearPayload = mutation(
        school_setup.create_academic_year,
        CreateAcademicYearInput,
        CreateAcademicYearPayload,
        description="An academic year with its periods and holidays" + _ADMIN,
    )
    create_subject: CreateSubjectPayload = mutation(
        school_setup.create_subject, CreateSubjectInput, CreateSubjectPayload, description="A subject" + _ADMIN
    )
    create_control_type: CreateControlTypePayload = mutation(
        school_setup.create_control_type,
        CreateControlTypeInput,
        CreateControlTypePayload,
        description="A control type with its weight" + _ADMIN,
    )
    create_class: CreateClassPayload = mutation(
        school_setup.create_class,
        CreateClassInput,
        CreateClassPayload,
        description='A class such as "5А" in an academic year' + _ADMIN,
    )
    invite_teacher: InviteTeacherPayload = mutation(
        school_setup.invite_teacher,
        InviteTeacherInput,
        InviteTeacherPayload,
        description="Invite a teacher by phone or email; their staff-binding request then shows as invited" + _ADMIN,
    )
    assign_teacher: AssignTeacherPayload = mutation(
        school_setup.assign_teacher,
        AssignTeacherInput,
        AssignTeacherPayload,
        description="A teacher teaches a subject in a class" + _ADMIN,
    )
    unassign_teacher: UnassignTeacherPayload = mutation(
        school_setup.unassign_teacher,
        UnassignTeacherInput,
        UnassignTeacherPayload,
        description="Remove a teaching assignment" + _ADMIN,
    )
    enroll_child: EnrollChildPayload = mutation(
        school_setup.enroll_child,
        EnrollChildInput,
        EnrollChildPayload,
        description="Enrol a child (the school's own record with that SNILS or birth certificate, else a new one) "
        "in a class" + _ADMIN,
    )
    move_child: MoveChildPayload = mutation(
        school_setup.move_child,
        MoveChildInput,
        MoveChildPayload,
        description="Move a child to another class from a date; both enrolments are kept" + _ADMIN,
    )
