"""A school with a diary to report on, for the report-document tests: the diary-writes
world (tests/diary_writes_support.py) with a second subject and its own teacher, a
homeroom teacher, grades, marks and remarks in the first quarter, and a second class.
Reports are built as the worker builds them: a Report row, then build_document in a
session of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import (
    AttendanceStatus,
    GradeKind,
    LessonStatus,
    ReportColumn,
    ReportFormat,
    ReportGrouping,
    ReportKind,
    ReportScope,
)
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.reports import Report, ReportRemark, ReportTemplate
from ediary_gql.db.models.users import User
from ediary_gql.reports.document import Cell, ReportDocument, Section
from ediary_gql.services.reports.build import build_document
from tests.diary_writes_support import MONDAY, World, make_world
from tests.factories import (
    make_attendance,
    make_control_type,
    make_enrolled_child,
    make_grade,
    make_lesson,
    make_school_class,
    make_subject,
    make_teacher,
    make_teaching_assignment,
)

NOW = dt.datetime(2026, 10, 30, 9, 15, tzinfo=dt.UTC)
TUESDAY, WEDNESDAY = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)


@dataclass
class Diary:
    world: World
    russian: Subject
    russian_teacher: User  # teaches Russian in the class, not maths
    homeroom: User  # the class's homeroom teacher, teaching nothing in it
    second_class: SchoolClass
    second_child: Child
    maths: list[Lesson]  # Mon, Tue, Wed
    russian_lessons: list[Lesson]  # Mon, Tue
    remarks: list[ReportRemark]

    @property
    def school_id(self) -> int:
        return self.world.school.id


async def make_diary(session: AsyncSession) -> Diary:
    w = await make_world(session)
    # names no random one (a teacher's, a classmate's) contains, so "not in the report" checks can't collide
    w.child.last_name, w.other_child.last_name = "Первоученикова", "Соседнекласснова"
    russian = await make_subject(session, school_id=w.school.id, name="Русский язык")
    russian_teacher = await make_teacher(session, school_id=w.school.id)
    await make_teaching_assignment(
        session, teacher_id=russian_teacher.id, class_id=w.school_class.id, subject_id=russian.id
    )
    homeroom = await make_teacher(session, school_id=w.school.id)
    w.school_class.homeroom_teacher_id = homeroom.id
    oral = await make_control_type(session, school_id=w.school.id, code="ORAL", name="Устный ответ", weight=1)
    maths = [await w.lesson(session, date=day, topic=f"Тема {n}") for n, day in enumerate((MONDAY, TUESDAY, WEDNESDAY))]
    russian_lessons = [
        await w.lesson(session, date=day, subject_id=russian.id, teacher_id=russian_teacher.id, room="102")
        for day in (MONDAY, TUESDAY)
    ]
    cancelled = await w.lesson(session, date=WEDNESDAY, room="103", status=LessonStatus.CANCELLED)
    late_lesson = await w.lesson(session, date=w.period.ends_on + dt.timedelta(days=20))  # after the quarter

    async def grade(child: Child, lesson: Lesson, value: str, control: Any = None, **more: Any) -> None:
        await make_grade(
            session,
            child_id=child.id,
            lesson_id=lesson.id,
            value=value,
            control_type_id=control.id if control is not None else None,
            **more,
        )

    c, o = w.child, w.other_child
    # the child's maths: 5 (test, ×2), 3 (oral, ×1), 4 (test, ×2), a pass; plain 4.00, weighted 4.20
    await grade(c, maths[0], "5", w.control_type, comment="Отлично")
    await grade(c, maths[1], "3", oral)
    await grade(c, maths[2], "4", w.control_type)
    await grade(c, maths[2], "PASS")
    await grade(c, maths[1], "2", deleted_at=NOW)  # deleted: left out
    await grade(c, late_lesson, "2")  # after the dates: left out
    await make_grade(
        session,
        child_id=c.id,
        class_id=w.school_class.id,
        subject_id=w.subject.id,
        teacher_id=w.teacher.id,
        lesson_id=None,
        kind=GradeKind.PERIOD_FINAL,
        period_id=w.period.id,
        value="4",
        graded_on=w.period.ends_on,
    )
    await grade(c, russian_lessons[0], "4", comment="Без ошибок")
    await grade(c, russian_lessons[1], "5", oral)
    await grade(o, maths[0], "2", w.control_type)
    await grade(o, maths[1], "3")
    await grade(o, russian_lessons[1], "5")
    # marks: the child 1 present, 1 late (7 min), 1 absent, 1 sick; the classmate 2 present, 1 excused
    for lesson, child, status in (
        (maths[0], c, AttendanceStatus.PRESENT),
        (maths[1], c, AttendanceStatus.LATE),
        (russian_lessons[1], c, AttendanceStatus.ABSENT),
        (maths[2], c, AttendanceStatus.SICK),
        (maths[0], o, AttendanceStatus.PRESENT),
        (maths[1], o, AttendanceStatus.PRESENT),
        (russian_lessons[1], o, AttendanceStatus.EXCUSED),
        (cancelled, c, AttendanceStatus.ABSENT),  # a cancelled lesson: left out
    ):
        minutes = {"minutes_late": 7} if status is AttendanceStatus.LATE else {}
        await make_attendance(session, lesson_id=lesson.id, child_id=child.id, status=status, **minutes)
    # a second class of the school, with a child, a grade and a mark
    second_class = await make_school_class(session, school_id=w.school.id, academic_year_id=w.year.id)
    second_child = await make_enrolled_child(session, class_id=second_class.id)
    await make_teaching_assignment(session, teacher_id=w.teacher.id, class_id=second_class.id, subject_id=w.subject.id)
    second_lesson = await make_lesson(
        session, school_class=second_class, subject_id=w.subject.id, teacher_id=w.teacher.id, date=MONDAY
    )
    await grade(second_child, second_lesson, "5", w.control_type)
    await make_attendance(session, lesson_id=second_lesson.id, child_id=second_child.id, status=AttendanceStatus.ABSENT)
    remarks = [
        ReportRemark(child_id=c.id, period_id=w.period.id, author_id=homeroom.id, text="Старается, но отвлекается"),
        ReportRemark(
            child_id=c.id,
            period_id=w.period.id,
            subject_id=russian.id,
            author_id=russian_teacher.id,
            text="Читать больше",
        ),
        ReportRemark(
            child_id=o.id, period_id=w.period.id, subject_id=w.subject.id, author_id=w.teacher.id, text="Догнать тему"
        ),
    ]
    session.add_all(remarks)
    await session.commit()
    return Diary(w, russian, russian_teacher, homeroom, second_class, second_child, maths, russian_lessons, remarks)


async def make_template(session: AsyncSession, diary: Diary, kind: ReportKind, **fields: Any) -> ReportTemplate:
    values: dict[str, Any] = {
        "school_id": diary.school_id,
        "kind": kind,
        "name": f"Шаблон {kind.value} {len(fields)}",
        "columns": [ReportColumn.DATE.value, ReportColumn.GRADE.value],
        "group_by": ReportGrouping.DATE,
        "include_comments": True,
        "include_remarks": True,
    }
    values.update(fields)
    values["columns"] = [ReportColumn(c).value for c in values["columns"]]
    template = ReportTemplate(**values)
    session.add(template)
    await session.commit()
    return template


async def build(
    session: AsyncSession,
    services: AppServices,
    diary: Diary,
    *,
    by: User,
    kind: ReportKind,
    scope: ReportScope,
    target: int | None = None,
    template: ReportTemplate | None = None,
    dates: tuple[dt.date, dt.date] | None = None,
) -> ReportDocument:
    """A QUEUED report by `by` on the target (the child, the class, the school by default
    for each scope) over the first quarter (or `dates`), built in a session of its own."""
    w = diary.world
    default = {ReportScope.CHILD: w.child.id, ReportScope.CLASS: w.school_class.id, ReportScope.SCHOOL: w.school.id}
    period = w.period
    report = Report(
        requested_by_id=by.id,
        school_id=w.school.id,
        kind=kind,
        scope=scope,
        scope_id=target if target is not None else default[scope],
        period_id=None if dates else period.id,
        date_from=dates[0] if dates else period.starts_on,
        date_to=dates[1] if dates else period.ends_on,
        format=ReportFormat.XLSX,
        template_id=template.id if template is not None else None,
    )
    session.add(report)
    await session.commit()
    async with services.session_factory() as own:
        row = await own.get(Report, report.id)
        assert row is not None
        return await build_document(own, row, now=NOW)


def section(doc: ReportDocument, title: str) -> Section:
    found = [s for s in doc.sections if s.title == title]
    assert len(found) == 1, [s.title for s in doc.sections]
    return found[0]


def records(part: Section) -> list[dict[str, Cell]]:
    """The rows as {column title: cell}."""
    return [{c.title: cell for c, cell in zip(part.columns, row, strict=True)} for row in part.rows]


def titles(part: Section) -> list[str]:
    return [c.title for c in part.columns]


def texts(doc: ReportDocument) -> str:
    """Every word of the document, for what must not be in it."""
    parts = [doc.title, doc.school_name, doc.period_label]
    for s in doc.sections:
        parts += [s.title, s.note or "", *(c.title for c in s.columns)]
        parts += [str(cell) for row in s.rows for cell in row if cell is not None]
    return "\n".join(parts)
