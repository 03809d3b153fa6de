"""Who sees what in a report: the diary's own rules (auth/policy.py) over the requester's
facts at the report's school. The family sees all of the child's diary there, the
school's admins all of the school; a teacher the classes they teach or are homeroom
teacher of, and in a class they are not homeroom teacher of only the subjects they
teach there (grades); attendance marks go with the class, as in the diary.

A report covers the records of its school only (the one in its heading), whoever asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Integer, bindparam, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import ReportKind, StaffRole
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.services import diary
from ediary_gql.services.averages import children_of_class
from ediary_gql.services.reports.headings import full_name
from ediary_gql.services.reports.template_spec import TemplateSpec

CHILD_REFUSED = "Нет доступа к дневнику этого ребёнка"
CLASS_REFUSED = "Отчёт по классу доступен администраторам школы и учителям этого класса"
SCHOOL_REFUSED = "Отчёт по школе доступен её администраторам"

# The classes of the report's school (bound :school).
SCHOOL_CLASSES = select(SchoolClass.__table__.c.id).where(SchoolClass.__table__.c.school_id == bindparam("school"))


@dataclass(frozen=True, slots=True)
class Viewer:
    """The requester, with the row facts the policy decides on at the report's school."""

    actor: Actor
    school_id: int
    homeroom: frozenset[int] = frozenset()  # classes whose homeroom teacher they are
    assigned: frozenset[tuple[int, int]] = frozenset()  # (class, subject) they teach

    def teaches_class(self, class_id: int) -> bool:
        return class_id in self.homeroom or any(c == class_id for c, _ in self.assigned)

    def teaches_subject(self, class_id: int, subject_id: int) -> bool:
        return class_id in self.homeroom or (class_id, subject_id) in self.assigned

    def sees_grade(self, child_id: int, class_id: int, subject_id: int) -> bool:
        teaches = self.teaches_subject(class_id, subject_id)
        return policy.can_view_child_record(self.actor, child_id=child_id, school_id=self.school_id, teaches=teaches)

    def sees_subject(self, child_id: int, subject_id: int, class_ids: Iterable[int]) -> bool:
        """A child's subject as a whole (an average, a remark): seen in one of their classes."""
        teaches = any(self.teaches_subject(c, subject_id) for c in class_ids)
        return policy.can_view_child_record(self.actor, child_id=child_id, school_id=self.school_id, teaches=teaches)

    def sees_marks(self, child_id: int, class_id: int) -> bool:
        teaches = self.teaches_class(class_id)
        return policy.can_view_child_record(self.actor, child_id=child_id, school_id=self.school_id, teaches=teaches)

    def sees_class_subject(self, class_id: int, subject_id: int) -> bool:
        """A class × subject as a whole (the school's summary): as its class journal."""
        assigned = self.teaches_subject(class_id, subject_id)
        return policy.can_read_class_journal(self.actor, school_id=self.school_id, assigned=assigned)

    def may_report_on_class(self, kind: ReportKind, class_id: int) -> bool:
        """A class's figures: as the class's statistics (its admins, its teachers)."""
        teaches = self.teaches_class(class_id)
        if kind is ReportKind.PROGRESS:
            return policy.can_view_grade_statistics(self.actor, school_id=self.school_id, teaches_class=teaches)
        return policy.can_view_attendance_statistics(self.actor, school_id=self.school_id, teaches_class=teaches)

    def may_report_on_school(self, kind: ReportKind) -> bool:
        if kind is ReportKind.PROGRESS:
            return policy.can_view_grade_statistics(self.actor, school_id=self.school_id, teaches_class=False)
        return policy.can_view_attendance_statistics(self.actor, school_id=self.school_id, teaches_class=None)


@dataclass(frozen=True, slots=True)
class Frame:
    """What every part of a report is built within."""

    viewer: Viewer
    spec: TemplateSpec
    kind: ReportKind
    date_from: dt.date
    date_to: dt.date
    zone: str | None

    @property
    def school_id(self) -> int:
        return self.viewer.school_id

    def params(self, **more: object) -> dict[str, object]:
        return {"school": self.school_id, "start": self.date_from, "end": self.date_to, **more}


@dataclass(frozen=True, slots=True)
class Pupil:
    """A child in a report, with the school's classes they were in during its dates."""

    id: int
    name: str
    class_ids: frozenset[int]


_ACTOR = bindparam("actor", type_=Integer)
# ("H", a class they are homeroom teacher of, None), ("A", class, subject) they teach
_TEACHING: CompoundSelect[Any] = union_all(
    select(literal("H"), SchoolClass.id, null()).where(
        SchoolClass.school_id == bindparam("school"), SchoolClass.homeroom_teacher_id == _ACTOR
    ),
    select(literal("A"), TeachingAssignment.class_id, TeachingAssignment.subject_id)
    .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
    .where(SchoolClass.school_id == bindparam("school"), TeachingAssignment.teacher_id == _ACTOR),
)


async def viewer_of(session: AsyncSession, actor: Actor, school_id: int) -> Viewer:
    """The actor's classes and subjects at the school (one statement, for a teacher there)."""
    if not actor.has_role(school_id, StaffRole.TEACHER):
        return Viewer(actor=actor, school_id=school_id)
    rows: Sequence[Any] = (await session.execute(_TEACHING, {"school": school_id, "actor": actor.user_id})).all()
    return Viewer(
        actor=actor,
        school_id=school_id,
        homeroom=frozenset(int(c) for kind, c, _ in rows if kind == "H"),
        assigned=frozenset((int(c), int(s)) for kind, c, s in rows if kind == "A"),
    )


_CHILD_CLASSES = (
    select(Enrollment.class_id, SchoolClass.level, SchoolClass.letter)
    .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
    .where(
        Enrollment.child_id == bindparam("child"),
        SchoolClass.school_id == bindparam("school"),
        Enrollment.starts_on <= bindparam("end"),
        or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= bindparam("start")),
    )
    .order_by(Enrollment.starts_on, Enrollment.id)
)


async def child_target(session: AsyncSession, frame: Frame, child_id: int) -> tuple[Pupil, str]:
    """The child (NOT_FOUND when gone; FORBIDDEN unless the requester may read their
    diary) and the report's subject line: the name and the class."""
    child = await session.get(Child, child_id)
    if child is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Ученик не найден", field="targetId")
    readable = await diary.readable_children(session, actor=frame.viewer.actor, child_ids=[child_id])
    if child_id not in readable:
        raise forbidden(CHILD_REFUSED)
    classes = (await session.execute(_CHILD_CLASSES, frame.params(child=child_id))).all()
    pupil = Pupil(id=child.id, name=child.full_name, class_ids=frozenset(int(c) for c, _, _ in classes))
    label = f"{pupil.name}, {classes[-1][1]}{classes[-1][2]}" if classes else pupil.name
    return pupil, label


_ROSTER = (
    select(Child.id, Child.last_name, Child.first_name, Child.middle_name)
    .where(Child.id.in_(children_of_class()))
    .order_by(Child.last_name, Child.first_name, Child.middle_name, Child.id)
)


async def class_target(session: AsyncSession, frame: Frame, class_id: int) -> tuple[SchoolClass, list[Pupil]]:
    """The class (NOT_FOUND when gone or of another school; FORBIDDEN unless the requester
    may see its figures) and its children during the dates whose diary the requester may
    read, by name."""
    school_class = await session.get(SchoolClass, class_id)
    if school_class is None or school_class.school_id != frame.school_id:
        raise DomainError(ErrorCode.NOT_FOUND, "Класс не найден", field="targetId")
    if not frame.viewer.may_report_on_class(frame.kind, class_id):
        raise forbidden(CLASS_REFUSED)
    rows = (await session.execute(_ROSTER, frame.params(**{"class": class_id}))).all()
    readable = await diary.readable_children(session, actor=frame.viewer.actor, child_ids=[int(r[0]) for r in rows])
    pupils = [
        Pupil(id=int(child), name=full_name(last, first, middle), class_ids=frozenset({class_id}))
        for child, last, first, middle in rows
        if int(child) in readable
    ]
    return school_class, pupils


def require_school(frame: Frame) -> None:
    if not frame.viewer.may_report_on_school(frame.kind):
        raise forbidden(SCHOOL_REFUSED)


def names_of(pupils: Sequence[Pupil]) -> dict[int, str]:
    return {p.id: p.name for p in pupils}
