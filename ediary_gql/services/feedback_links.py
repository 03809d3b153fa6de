"""The diary records a feedback ticket links (by global ID): what each one is, which
school holds it, whether a person may see it, and the one-line Russian summary a
ticket's readers get of it. Operators see diary content only through these summaries
(never through `node()`), so they are rendered here, for the ticket's readers alone.

Every batch is one statement per record type, however many links a page holds."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.ids import parse_id
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, StaffRole
from ediary_gql.db.models.grades import ControlType, Grade
from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.services import diary_facts, public_ids
from ediary_gql.services.attachments import family_of

# The record types a ticket may link, by their GraphQL type name.
LINK_TYPES = ("Grade", "Lesson", "Homework", "Attendance", "Child")
GONE = "Запись удалена или недоступна"
_TEXT_PREVIEW = 80

_ATTENDANCE = {
    AttendanceStatus.PRESENT: "присутствие",
    AttendanceStatus.ABSENT: "отсутствие",
    AttendanceStatus.LATE: "опоздание",
    AttendanceStatus.EXCUSED: "отсутствие по уважительной причине",
    AttendanceStatus.SICK: "отсутствие по болезни",
}


@dataclass(frozen=True, slots=True)
class LinkRef:
    """One link: a record type and its row id."""

    type_name: str
    pk: int

    @property
    def global_id(self) -> str:
        return public_ids.global_id(self.type_name, self.pk)


def parse_link(global_id: str) -> LinkRef | None:
    """A stored (or given) global ID as a link; None for what names no row of a linkable type."""
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, raw = decoded.partition(":")
    pk = parse_id(raw)
    if type_name not in LINK_TYPES or pk is None:
        return None
    return LinkRef(type_name, pk)


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    """What a linked record is, as far as visibility and the summary need it."""

    ref: LinkRef
    summary: str
    school_id: int | None
    child_id: int | None = None  # a grade's, an attendance mark's, a child's own
    class_id: int | None = None  # a grade's class, or the class of the lesson
    subject_id: int | None = None  # a grade's subject (teachers see grades of their subject)
    date: dt.date | None = None  # the lesson's date (families see lessons of their class then)


def _person(last: str, first: str) -> str:
    return f"{last} {first}"


def _class(level: int, letter: str) -> str:
    return f"{level}{letter}"


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _TEXT_PREVIEW else flat[: _TEXT_PREVIEW - 1].rstrip() + "…"


async def _grades(session: AsyncSession, ids: list[int]) -> list[LinkedRecord]:
    rows = await session.execute(
        select(Grade, Subject.name, Child.last_name, Child.first_name, SchoolClass.school_id, ControlType.name)
        .join(Subject, Subject.id == Grade.subject_id)
        .join(Child, Child.id == Grade.child_id)
        .join(SchoolClass, SchoolClass.id == Grade.class_id)
        .outerjoin(ControlType, ControlType.id == Grade.control_type_id)
        .where(Grade.id.in_(ids))
    )
    found = []
    for grade, subject, last, first, school_id, control in rows.all():
        what = f"Оценка {grade.value}" + (f" ({control.lower()})" if control else "")
        text = f"{what}, {subject.lower()}, {grade.graded_on:%d.%m.%Y}, {_person(last, first)}"
        if grade.deleted_at is not None:
            text += " (удалена)"
        found.append(
            LinkedRecord(
                ref=LinkRef("Grade", grade.id),
                summary=text,
                school_id=school_id,
                child_id=grade.child_id,
                class_id=grade.class_id,
                subject_id=grade.subject_id,
            )
        )
    return found


async def _attendance(session: AsyncSession, ids: list[int]) -> list[LinkedRecord]:
    rows = await session.execute(
        select(
            Attendance, Lesson.date, Lesson.class_id, Lesson.school_id, Subject.name, Child.last_name, Child.first_name
        )
        .join(Lesson, Lesson.id == Attendance.lesson_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(Child, Child.id == Attendance.child_id)
        .where(Attendance.id.in_(ids))
    )
    found = []
    for mark, date, class_id, school_id, subject, last, first in rows.all():
        status = _ATTENDANCE.get(AttendanceStatus(mark.status), str(mark.status))
        if mark.status == AttendanceStatus.LATE and mark.minutes_late:
            status += f" на {mark.minutes_late} мин"
        found.append(
            LinkedRecord(
                ref=LinkRef("Attendance", mark.id),
                summary=f"Посещаемость: {status}, {subject.lower()}, {date:%d.%m.%Y}, {_person(last, first)}",
                school_id=school_id,
                child_id=mark.child_id,
                class_id=class_id,
            )
        )
    return found


async def _lessons(session: AsyncSession, ids: list[int]) -> list[LinkedRecord]:
    rows = await session.execute(
        select(Lesson, Subject.name, SchoolClass.level, SchoolClass.letter)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(Lesson.id.in_(ids))
    )
    found = []
    for lesson, subject, level, letter in rows.all():
        text = f"Урок: {subject.lower()}, {_class(level, letter)}, {lesson.date:%d.%m.%Y} {lesson.start_time:%H:%M}"
        if lesson.topic:
            text += f", тема «{_preview(lesson.topic)}»"
        if lesson.status == LessonStatus.CANCELLED:
            text += " (отменён)"
        found.append(
            LinkedRecord(
                ref=LinkRef("Lesson", lesson.id),
                summary=text,
                school_id=lesson.school_id,
                class_id=lesson.class_id,
                date=lesson.date,
            )
        )
    return found


async def _homework(session: AsyncSession, ids: list[int]) -> list[LinkedRecord]:
    rows = await session.execute(
        select(Homework, Lesson.date, Lesson.school_id, Subject.name, SchoolClass.level, SchoolClass.letter)
        .join(Lesson, Lesson.id == Homework.lesson_id)
        .join(Subject, Subject.id == Homework.subject_id)
        .join(SchoolClass, SchoolClass.id == Homework.class_id)
        .where(Homework.id.in_(ids))
    )
    found = []
    for homework, date, school_id, subject, level, letter in rows.all():
        text = (
            f"Домашнее задание: {subject.lower()}, {_class(level, letter)}, к {homework.due_on:%d.%m.%Y}: "
            f"«{_preview(homework.text)}»"
        )
        found.append(
            LinkedRecord(
                ref=LinkRef("Homework", homework.id),
                summary=text,
                school_id=school_id,
                class_id=homework.class_id,
                date=date,
            )
        )
    return found


async def _children(session: AsyncSession, ids: list[int]) -> list[LinkedRecord]:
    rows = (
        await session.execute(
            select(Child.id, Child.last_name, Child.first_name, Child.middle_name, Child.school_id).where(
                Child.id.in_(ids)
            )
        )
    ).all()
    # a record no school holds yet (made by an enrolment) is the school it is enrolled at now
    unheld = [pk for pk, *_, school_id in rows if school_id is None]
    enrolled: dict[int, set[int]] = {}
    for child, (_, school) in await diary_facts.current_classes_of_children(session, unheld):
        enrolled.setdefault(child, set()).add(school)
    found = []
    for pk, last, first, middle, school_id in rows:
        schools = enrolled.get(pk, set())
        found.append(
            LinkedRecord(
                ref=LinkRef("Child", pk),
                summary="Ученик: " + " ".join(p for p in (last, first, middle) if p),
                school_id=school_id if school_id is not None else (next(iter(schools)) if len(schools) == 1 else None),
                child_id=pk,
            )
        )
    return found


_READERS = {
    "Grade": _grades,
    "Attendance": _attendance,
    "Lesson": _lessons,
    "Homework": _homework,
    "Child": _children,
}


async def linked_records(session: AsyncSession, refs: Iterable[LinkRef]) -> dict[LinkRef, LinkedRecord]:
    """The records that exist among `refs`: one statement per record type asked for."""
    by_type: dict[str, set[int]] = {}
    for ref in refs:
        by_type.setdefault(ref.type_name, set()).add(ref.pk)
    found: dict[LinkRef, LinkedRecord] = {}
    for type_name, ids in sorted(by_type.items()):
        for record in await _READERS[type_name](session, sorted(ids)):
            found[record.ref] = record
    return found


async def summaries(session: AsyncSession, refs: Sequence[LinkRef]) -> list[str]:
    """The summary of each link, in order (GONE for what no longer exists)."""
    found = await linked_records(session, refs)
    return [found[r].summary if r in found else GONE for r in refs]


async def may_see(session: AsyncSession, actor: Actor, record: LinkedRecord) -> bool:
    """Whether `actor` may see the record through the diary (as its node would be shown)."""
    kind = record.ref.type_name
    if kind == "Child":
        assert record.child_id is not None  # noqa: S101 - a child's own id
        schools = frozenset(
            s for _, (_, s) in await diary_facts.current_classes_of_children(session, [record.child_id])
        )
        return policy.can_view_child(actor, record.child_id, school_ids=schools)
    school_id = record.school_id
    assert school_id is not None  # noqa: S101 - a diary record is its class's school's
    assert record.class_id is not None  # noqa: S101 - every other record has a class
    if kind in ("Grade", "Attendance"):
        assert record.child_id is not None  # noqa: S101 - a child's record
        teaches = actor.has_role(school_id, StaffRole.TEACHER) and await _teaches(
            session, actor.user_id, record.class_id, record.subject_id
        )
        return policy.can_view_child_record(actor, child_id=record.child_id, school_id=school_id, teaches=teaches)
    assert record.date is not None  # noqa: S101 - a lesson's date
    family = family_of(actor)
    children = (
        await diary_facts.enrolled(session, class_id=record.class_id, date=record.date, child_ids=family)
        if family
        else frozenset()
    )
    return policy.can_view_lesson(actor, school_id=school_id, class_child_ids=children)


async def _teaches(session: AsyncSession, teacher_id: int, class_id: int, subject_id: int | None) -> bool:
    """The teacher is assigned to that subject (None: any subject) in that class."""
    stmt = select(TeachingAssignment.id).where(
        TeachingAssignment.teacher_id == teacher_id, TeachingAssignment.class_id == class_id
    )
    if subject_id is not None:
        stmt = stmt.where(TeachingAssignment.subject_id == subject_id)
    return await session.scalar(stmt.limit(1)) is not None
