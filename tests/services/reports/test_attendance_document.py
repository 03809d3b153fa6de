"""Attendance reports' documents over a seeded diary: a child's totals and lessons, a
class per child and by day, a school by class and by day — every figure against
services/statistics.py's attendanceStatistics, and no child in a school's report."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportColumn, ReportGrouping, ReportKind, ReportScope
from ediary_gql.services import statistics
from ediary_gql.services.reports import headings
from ediary_gql.services.sessions import load_actors
from ediary_gql.services.statistics import Counts, GroupBy
from tests.diary_writes_support import MONDAY
from tests.services.reports.document_support import (
    TUESDAY,
    WEDNESDAY,
    Diary,
    build,
    make_diary,
    make_template,
    records,
    section,
    texts,
    titles,
)

ATTENDANCE = ReportKind.ATTENDANCE
COUNT_TITLES = [
    "Отмечено",
    "Присутствие",
    "Отсутствие",
    "Опоздание",
    "Уважительная причина",
    "Болезнь",
    "Минут опоздания",
    "Доля посещённых",
]


@pytest.fixture
async def diary(session: AsyncSession) -> Diary:
    return await make_diary(session)


def _figures(counts: Counts) -> list[object]:
    """COUNT_TITLES' values as statistics counts them; the share from its attendance rate."""
    rate = counts.attendance_rate
    share = None if rate is None else (Decimal(str(rate)) * 100).quantize(Decimal("0.1"))
    return [
        counts.marked,
        counts.present,
        counts.absent,
        counts.late,
        counts.excused,
        counts.sick,
        counts.minutes_late,
        share,
    ]


def _counted(record: Mapping[str, object]) -> list[object]:
    return [record[t] for t in COUNT_TITLES]


async def _stats(
    session: AsyncSession, actor: Actor, diary: Diary, group_by: GroupBy, *, school: bool
) -> statistics.AttendanceStatistics:
    w = diary.world
    return await statistics.attendance_statistics(
        session,
        actor=actor,
        school_id=w.school.id if school else None,
        class_id=None if school else w.school_class.id,
        start=w.period.starts_on,
        end=w.period.ends_on,
        group_by=group_by,
        threshold=0.1,
    )


async def _admin(session: AsyncSession, diary: Diary) -> Actor:
    admin = diary.world.admin
    return (await load_actors(session, [admin.id]))[admin.id]


async def test_a_childs_report_counts_their_marks_as_the_statistics_do(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(session, app_services, diary, by=w.parent, kind=ATTENDANCE, scope=ReportScope.CHILD)

    assert doc.title == f"Посещаемость: {w.child.full_name}, {w.school_class.name}"
    assert [s.title for s in doc.sections] == [headings.ATTENDANCE_SUMMARY, headings.LESSONS, headings.REMARKS]
    summary = section(doc, headings.ATTENDANCE_SUMMARY)
    assert titles(summary) == COUNT_TITLES
    by_child = await _stats(session, await _admin(session, diary), diary, GroupBy.CHILD, school=False)
    [mine] = [g for g in by_child.groups if g.key == w.child.id]
    [row] = records(summary)
    assert _counted(row) == _figures(mine.counts)
    # present, late (7 min), absent, sick: half attended; the cancelled lesson's mark left out
    assert _counted(row) == [4, 1, 1, 1, 0, 1, 7, Decimal("50.0")]

    lessons = section(doc, headings.LESSONS)
    assert titles(lessons) == ["Дата", "Предмет", "Посещаемость", "Опоздание, мин", "Причина"]
    assert [tuple(r.values())[:4] for r in records(lessons)] == [
        (MONDAY, "Математика", "Присутствие", None),
        (TUESDAY, "Математика", "Опоздание", 7),
        (TUESDAY, "Русский язык", "Отсутствие", None),
        (WEDNESDAY, "Математика", "Болезнь", None),
    ]
    assert records(lessons)[3]["Причина"] == "По болезни"
    assert w.other_child.last_name not in texts(doc)


async def test_a_childs_lessons_per_subject_by_the_template(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    template = await make_template(
        session,
        diary,
        ATTENDANCE,
        columns=[ReportColumn.STATUS, ReportColumn.DATE, ReportColumn.SUBJECT, ReportColumn.TEACHER],
        group_by=ReportGrouping.SUBJECT,
        include_comments=False,
        include_remarks=False,
    )
    doc = await build(
        session, app_services, diary, by=w.student, kind=ATTENDANCE, scope=ReportScope.CHILD, template=template
    )
    assert [s.title for s in doc.sections] == [headings.ATTENDANCE_SUMMARY, "Математика", "Русский язык"]
    russian = section(doc, "Русский язык")
    assert titles(russian) == ["Посещаемость", "Дата", "Учитель"]  # no subject column in a subject's table
    teacher = " ".join(
        p
        for p in (diary.russian_teacher.last_name, diary.russian_teacher.first_name, diary.russian_teacher.middle_name)
        if p
    )
    assert russian.rows == (("Отсутствие", TUESDAY, teacher),)
    assert len(section(doc, "Математика").rows) == 3


async def test_a_class_report_per_child_and_by_day_matches_the_statistics(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    # the maths teacher: attendance marks go with the class, as in the diary
    doc = await build(session, app_services, diary, by=w.teacher, kind=ATTENDANCE, scope=ReportScope.CLASS)

    assert [s.title for s in doc.sections] == [headings.BY_CHILD, headings.BY_DAY, headings.REMARKS]
    admin = await _admin(session, diary)
    per_child = section(doc, headings.BY_CHILD)
    assert titles(per_child) == ["Ученик", *COUNT_TITLES]
    by_child = await _stats(session, admin, diary, GroupBy.CHILD, school=False)
    expected = {g.label: _figures(g.counts) for g in by_child.groups}
    rows = records(per_child)
    assert {r["Ученик"]: _counted(r) for r in rows[:-1]} == expected
    assert len(expected) == 2
    assert rows[-1]["Ученик"] == headings.TOTAL
    assert _counted(rows[-1]) == _figures(by_child.total)

    by_day = section(doc, headings.BY_DAY)
    assert titles(by_day) == ["Дата", "Уроков", *COUNT_TITLES]
    days = await _stats(session, admin, diary, GroupBy.DAY, school=False)
    assert [(r["Дата"], r["Уроков"], *_counted(r)) for r in records(by_day)] == [
        (g.key, g.counts.lessons, *_figures(g.counts)) for g in days.groups
    ]
    assert [r["Дата"] for r in records(by_day)] == [MONDAY, TUESDAY, WEDNESDAY]
    # the remark on Russian is not the maths teacher's to see
    assert "Читать больше" not in texts(doc)


async def test_a_schools_report_by_class_and_by_day_with_no_child_in_it(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(session, app_services, diary, by=w.admin, kind=ATTENDANCE, scope=ReportScope.SCHOOL)

    assert [s.title for s in doc.sections] == [headings.BY_CLASS, headings.BY_DAY]
    admin = await _admin(session, diary)
    by_class = section(doc, headings.BY_CLASS)
    assert titles(by_class) == ["Класс", "Уроков", *COUNT_TITLES]
    stats = await _stats(session, admin, diary, GroupBy.CLASS, school=True)
    expected = [(g.label, g.counts.lessons, *_figures(g.counts)) for g in stats.groups]
    expected.append((headings.TOTAL, stats.total.lessons, *_figures(stats.total)))
    assert [(r["Класс"], r["Уроков"], *_counted(r)) for r in records(by_class)] == expected
    assert [r["Класс"] for r in records(by_class)] == [w.school_class.name, diary.second_class.name, headings.TOTAL]

    days = await _stats(session, admin, diary, GroupBy.DAY, school=True)
    assert [(r["Дата"], r["Уроков"], *_counted(r)) for r in records(section(doc, headings.BY_DAY))] == [
        (g.key, g.counts.lessons, *_figures(g.counts)) for g in days.groups
    ]
    text = texts(doc)
    for child in (w.child, w.other_child, diary.second_child):
        assert child.last_name not in text
