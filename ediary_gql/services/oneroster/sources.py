"""The collections of OneRoster rostering, each one SQL selectable of a school's rows.

Every selectable has the columns `gid_type`, `pk` and `ext` (the record's sourcedId is
`ext`, the school's external ID, when it has one, else our global ID of `gid_type:pk`),
and a column per field a filter or sort may name, labelled as the field is. Personal
fields that are masked for the reader (email, phone) are read but never filterable or
sortable: a filter would tell what the mask hides.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy import Select, String, case, cast, literal, null, select, union_all
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import PeriodKind, StaffRole
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.services.public_ids import global_id

# a select of any columns
Rows: TypeAlias = Select[*tuple[Any, ...]]


class Collection(enum.StrEnum):
    """The rostering endpoints, as their paths name them."""

    ORGS = "orgs"
    SCHOOLS = "schools"
    ACADEMIC_SESSIONS = "academicSessions"
    CLASSES = "classes"
    COURSES = "courses"
    USERS = "users"
    STUDENTS = "students"
    TEACHERS = "teachers"
    ENROLLMENTS = "enrollments"


class Kind(enum.Enum):
    """How a filter's text value is read for a field."""

    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Source:
    select: Callable[[int], Rows]  # school id -> its rows
    fields: Mapping[str, Kind]  # filterable and sortable fields (columns of the same label)


def sourced_id(gid_type: str, pk: int, ext: str | None) -> str:
    """A record's sourcedId: the school's external ID, else our global ID (stable)."""
    return ext if ext else global_id(gid_type, pk)


def _text(value: str) -> sa.ColumnElement[str]:
    return literal(value, String)


def _none() -> sa.ColumnElement[str]:
    return cast(null(), String)


def _class_title() -> sa.ColumnElement[str]:
    return cast(SchoolClass.level, String).concat(SchoolClass.letter)


COMMON = {"sourcedId": Kind.TEXT, "status": Kind.TEXT, "dateLastModified": Kind.DATETIME}


def _orgs(school_id: int) -> Rows:
    return select(
        _text("School").label("gid_type"),
        School.id.label("pk"),
        _none().label("ext"),
        _text("active").label("status"),
        School.updated_at.label("dateLastModified"),
        School.full_name.label("name"),
        _text("school").label("type"),
        School.inn.label("identifier"),
    ).where(School.id == school_id)


ORGS = Source(_orgs, {**COMMON, "name": Kind.TEXT, "type": Kind.TEXT, "identifier": Kind.TEXT})

# our periods as OneRoster session types
_PERIOD_TYPES = {PeriodKind.QUARTER: "term", PeriodKind.TRIMESTER: "term", PeriodKind.SEMESTER: "semester"}


def _academic_sessions(school_id: int) -> Rows:
    years = select(
        _text("AcademicYear").label("gid_type"),
        AcademicYear.id.label("pk"),
        _none().label("ext"),
        _text("active").label("status"),
        AcademicYear.created_at.label("dateLastModified"),
        AcademicYear.name.label("title"),
        AcademicYear.starts_on.label("startDate"),
        AcademicYear.ends_on.label("endDate"),
        _text("schoolYear").label("type"),
        cast(null(), sa.BigInteger).label("parent_pk"),
        AcademicYear.ends_on.label("year_ends_on"),
    ).where(AcademicYear.school_id == school_id)
    period_type = case(
        *((AcademicYear.period_kind == kind.value, _text(name)) for kind, name in _PERIOD_TYPES.items()),
        else_=_text("term"),
    )
    periods = (
        select(
            _text("Period").label("gid_type"),
            Period.id.label("pk"),
            _none().label("ext"),
            _text("active").label("status"),
            AcademicYear.created_at.label("dateLastModified"),
            Period.name.label("title"),
            Period.starts_on.label("startDate"),
            Period.ends_on.label("endDate"),
            period_type.label("type"),
            Period.academic_year_id.label("parent_pk"),
            AcademicYear.ends_on.label("year_ends_on"),
        )
        .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
        .where(AcademicYear.school_id == school_id)
    )
    return select(union_all(years, periods).subquery())


ACADEMIC_SESSIONS = Source(
    _academic_sessions,
    {**COMMON, "title": Kind.TEXT, "startDate": Kind.DATE, "endDate": Kind.DATE, "type": Kind.TEXT},
)


def _classes(school_id: int) -> Rows:
    return select(
        _text("SchoolClass").label("gid_type"),
        SchoolClass.id.label("pk"),
        SchoolClass.external_id.label("ext"),
        _text("active").label("status"),
        SchoolClass.created_at.label("dateLastModified"),
        _class_title().label("title"),
        _class_title().label("classCode"),
        _text("homeroom").label("classType"),
        SchoolClass.level.label("level"),
        SchoolClass.academic_year_id.label("year_pk"),
    ).where(SchoolClass.school_id == school_id)


CLASSES = Source(_classes, {**COMMON, "title": Kind.TEXT, "classCode": Kind.TEXT, "classType": Kind.TEXT})


def _courses(school_id: int) -> Rows:
    return select(
        _text("Subject").label("gid_type"),
        Subject.id.label("pk"),
        Subject.external_id.label("ext"),
        _text("active").label("status"),
        Subject.created_at.label("dateLastModified"),
        Subject.name.label("title"),
        Subject.short_name.label("courseCode"),
    ).where(Subject.school_id == school_id)


COURSES = Source(_courses, {**COMMON, "title": Kind.TEXT, "courseCode": Kind.TEXT})


def _teacher_sourced_id(
    school_id: int, user_id: sa.ColumnElement[int] | InstrumentedAttribute[int]
) -> sa.ScalarSelect[str]:
    """The teacher's external ID at the school (roster links), as a column."""
    return (
        select(sa.func.min(RosterLink.external_id))
        .where(RosterLink.school_id == school_id, RosterLink.kind == "TEACHER", RosterLink.target_id == user_id)
        .scalar_subquery()
    )


def _students(school_id: int) -> Rows:
    # the level of the class the child is in now (an open enrolment)
    level = (
        select(sa.func.max(SchoolClass.level))
        .join(Enrollment, Enrollment.class_id == SchoolClass.id)
        .where(Enrollment.child_id == Child.id, Enrollment.ends_on.is_(None))
        .scalar_subquery()
    )
    return select(
        _text("Child").label("gid_type"),
        Child.id.label("pk"),
        Child.external_id.label("ext"),
        _text("active").label("status"),
        Child.updated_at.label("dateLastModified"),
        Child.first_name.label("givenName"),
        Child.last_name.label("familyName"),
        Child.middle_name.label("middleName"),
        _text("student").label("role"),
        _none().label("email"),
        _none().label("phone"),
        level.label("level"),
    ).where(Child.school_id == school_id)


def _teachers(school_id: int) -> Rows:
    return (
        select(
            _text("User").label("gid_type"),
            User.id.label("pk"),
            _teacher_sourced_id(school_id, User.id).label("ext"),
            _text("active").label("status"),
            User.updated_at.label("dateLastModified"),
            User.first_name.label("givenName"),
            User.last_name.label("familyName"),
            User.middle_name.label("middleName"),
            _text("teacher").label("role"),
            User.email.label("email"),
            User.phone.label("phone"),
            cast(null(), sa.SmallInteger).label("level"),
        )
        .join(StaffMembership, StaffMembership.user_id == User.id)
        .where(
            StaffMembership.school_id == school_id,
            StaffMembership.role == StaffRole.TEACHER,
            StaffMembership.active.is_(True),
        )
    )


def _users(school_id: int) -> Rows:
    return select(union_all(_students(school_id), _teachers(school_id)).subquery())


USER_FIELDS = {**COMMON, "givenName": Kind.TEXT, "familyName": Kind.TEXT, "middleName": Kind.TEXT, "role": Kind.TEXT}
USERS = Source(_users, USER_FIELDS)
STUDENTS = Source(lambda school_id: select(_students(school_id).subquery()), USER_FIELDS)
TEACHERS = Source(lambda school_id: select(_teachers(school_id).subquery()), USER_FIELDS)


def _enrollments(school_id: int) -> Rows:
    students = (
        select(
            _text("Enrollment").label("gid_type"),
            Enrollment.id.label("pk"),
            _none().label("ext"),
            _text("active").label("status"),
            Enrollment.created_at.label("dateLastModified"),
            _text("student").label("role"),
            _text("false").label("primary"),
            Enrollment.starts_on.label("beginDate"),
            Enrollment.ends_on.label("endDate"),
            SchoolClass.id.label("class_pk"),
            SchoolClass.external_id.label("class_ext"),
            _text("Child").label("user_type"),
            Child.id.label("user_pk"),
            Child.external_id.label("user_ext"),
        )
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(Child, Child.id == Enrollment.child_id)
        .where(SchoolClass.school_id == school_id)
    )
    teachers = (
        select(
            _text("TeachingAssignment").label("gid_type"),
            TeachingAssignment.id.label("pk"),
            _none().label("ext"),
            _text("active").label("status"),
            TeachingAssignment.created_at.label("dateLastModified"),
            _text("teacher").label("role"),
            # the homeroom teacher's enrolment in their own class is the primary one
            case(
                (SchoolClass.homeroom_teacher_id == TeachingAssignment.teacher_id, _text("true")), else_=_text("false")
            ).label("primary"),
            cast(null(), sa.Date).label("beginDate"),
            cast(null(), sa.Date).label("endDate"),
            SchoolClass.id.label("class_pk"),
            SchoolClass.external_id.label("class_ext"),
            _text("User").label("user_type"),
            TeachingAssignment.teacher_id.label("user_pk"),
            _teacher_sourced_id(school_id, TeachingAssignment.teacher_id).label("user_ext"),
        )
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .where(SchoolClass.school_id == school_id)
    )
    return select(union_all(students, teachers).subquery())


ENROLLMENTS = Source(
    _enrollments,
    {**COMMON, "role": Kind.TEXT, "primary": Kind.TEXT, "beginDate": Kind.DATE, "endDate": Kind.DATE},
)

SOURCES: Mapping[Collection, Source] = {
    Collection.ORGS: ORGS,
    Collection.SCHOOLS: ORGS,
    Collection.ACADEMIC_SESSIONS: ACADEMIC_SESSIONS,
    Collection.CLASSES: CLASSES,
    Collection.COURSES: COURSES,
    Collection.USERS: USERS,
    Collection.STUDENTS: STUDENTS,
    Collection.TEACHERS: TEACHERS,
    Collection.ENROLLMENTS: ENROLLMENTS,
}
