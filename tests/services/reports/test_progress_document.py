"""Progress reports' documents over a seeded diary: the figures against services/averages.py
and services/statistics.py, the template's layout, the heading, and what each requester
may see (a family its own child only; a teacher the subjects they teach, a homeroom
teacher all of the class; a school's report with no child in it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportColumn, ReportGrouping, ReportKind, ReportScope
from ediary_gql.db.models.users import User
from ediary_gql.services import averages, statistics
from ediary_gql.services.reports import headings
from ediary_gql.services.sessions import load_actors
from tests.diary_writes_support import MONDAY
from tests.factories import make_enrolled_child, make_grade, make_lesson, make_school_class
from tests.services.reports.document_support import (
    NOW,
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
from tests.support import StatementCounter

PROGRESS = ReportKind.PROGRESS


@pytest.fixture
async def diary(session: AsyncSession) -> Diary:
    return await make_diary(session)


def _name(person: User) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


async def test_a_childs_report_holds_the_diarys_averages_finals_and_grades(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(session, app_services, diary, by=w.parent, kind=PROGRESS, scope=ReportScope.CHILD)

    assert doc.title == f"Успеваемость: {w.child.full_name}, {w.school_class.name}"
    assert doc.school_name == w.school.short_name
    assert doc.period_label == f"{w.period.name}, 01.09.2026 – 25.10.2026"
    assert doc.made_at == NOW
    assert doc.made_at.utcoffset() == dt.timedelta(hours=3)
    assert [s.title for s in doc.sections] == [
        headings.SUBJECTS_SUMMARY,
        "Математика",
        "Русский язык",
        headings.REMARKS,
    ]

    # the summary's figures are services/averages.py's own
    found = await averages.averages(
        session, child_ids=[w.child.id], starts_on=w.period.starts_on, ends_on=w.period.ends_on
    )
    expected = {a.subject_name: a for a in found[w.child.id]}
    summary = section(doc, headings.SUBJECTS_SUMMARY)
    assert titles(summary) == ["Предмет", "Оценок", "Средний балл", "Средневзвешенный балл", "Итоговая оценка"]
    rows = {r["Предмет"]: r for r in records(summary)}
    assert set(rows) == set(expected) == {"Математика", "Русский язык"}
    for subject, avg in expected.items():
        assert (rows[subject]["Оценок"], rows[subject]["Средний балл"], rows[subject]["Средневзвешенный балл"]) == (
            avg.count,
            avg.average,
            avg.weighted_average,
        )
    # …and what they are: 5 (×2), 3, 4 (×2), a pass not counted; the period's final grade 4
    assert rows["Математика"] == {
        "Предмет": "Математика",
        "Оценок": 3,
        "Средний балл": Decimal("4.00"),
        "Средневзвешенный балл": Decimal("4.20"),
        "Итоговая оценка": 4,
    }
    assert rows["Русский язык"]["Итоговая оценка"] is None

    # grades per subject, by date, as the default template lays them out (comments last)
    maths = section(doc, "Математика")
    assert titles(maths) == ["Дата", "Оценка", "Вид работы", "Вес", "Учитель", "Комментарий учителя"]
    teacher = _name(w.teacher)
    assert maths.rows == (
        (MONDAY, 5, "Контрольная", Decimal("2.00"), teacher, "Отлично"),
        (TUESDAY, 3, "Устный ответ", Decimal("1.00"), teacher, None),
        (WEDNESDAY, 4, "Контрольная", Decimal("2.00"), teacher, None),
        (WEDNESDAY, "зачёт", None, Decimal("1.00"), teacher, None),
    )
    assert [r["Оценка"] for r in records(section(doc, "Русский язык"))] == [4, 5]

    # the child's remarks, not the classmate's
    remarks = section(doc, headings.REMARKS)
    assert titles(remarks) == ["Дата", "Учитель", "Предмет", "Замечание"]
    day = headings.made_at(diary.remarks[0].created_at, w.school.timezone).date()
    assert remarks.rows == (
        (day, _name(diary.homeroom), None, "Старается, но отвлекается"),
        (day, _name(diary.russian_teacher), "Русский язык", "Читать больше"),
    )
    assert w.other_child.last_name not in texts(doc)
    assert "Догнать тему" not in texts(doc)


async def test_a_template_by_date_with_its_columns_and_without_comments_or_remarks(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    template = await make_template(
        session,
        diary,
        PROGRESS,
        columns=[ReportColumn.SUBJECT, ReportColumn.DATE, ReportColumn.GRADE, ReportColumn.TOPIC],
        group_by=ReportGrouping.DATE,
        include_comments=False,
        include_remarks=False,
    )
    doc = await build(
        session, app_services, diary, by=w.student, kind=PROGRESS, scope=ReportScope.CHILD, template=template
    )

    assert [s.title for s in doc.sections] == [headings.SUBJECTS_SUMMARY, headings.GRADES]
    grades = section(doc, headings.GRADES)
    assert titles(grades) == ["Предмет", "Дата", "Оценка", "Тема урока"]
    assert [(r["Дата"], r["Предмет"], r["Оценка"]) for r in records(grades)] == [
        (MONDAY, "Математика", 5),
        (MONDAY, "Русский язык", 4),
        (TUESDAY, "Математика", 3),
        (TUESDAY, "Русский язык", 5),
        (WEDNESDAY, "Математика", 4),
        (WEDNESDAY, "Математика", "зачёт"),
    ]
    assert records(grades)[0]["Тема урока"] == "Тема 0"


async def test_dates_without_a_period_are_labelled_by_themselves(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(
        session,
        app_services,
        diary,
        by=w.parent,
        kind=PROGRESS,
        scope=ReportScope.CHILD,
        dates=(MONDAY, TUESDAY),
    )
    assert doc.period_label == "07.09.2026 – 08.09.2026"
    rows = {r["Предмет"]: r for r in records(section(doc, headings.SUBJECTS_SUMMARY))}
    # Monday's 5 and Tuesday's 3 in maths; no final: the quarter is not within the dates
    assert rows["Математика"]["Оценок"] == 2
    assert rows["Математика"]["Средний балл"] == Decimal("4.00")
    assert rows["Математика"]["Итоговая оценка"] is None


async def test_a_class_report_per_child_and_subject_matches_the_averages(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(session, app_services, diary, by=w.admin, kind=PROGRESS, scope=ReportScope.CLASS)

    assert doc.title == f"Успеваемость: {w.school_class.name}"
    summary = section(doc, headings.CHILDREN_SUMMARY)
    assert titles(summary) == [
        "Ученик",
        "Предмет",
        "Оценок",
        "Средний балл",
        "Средневзвешенный балл",
        "Итоговая оценка",
    ]
    children = [w.child, w.other_child]
    found = await averages.averages(
        session, child_ids=[c.id for c in children], starts_on=w.period.starts_on, ends_on=w.period.ends_on
    )
    expected = {
        (child.full_name, a.subject_name): (a.count, a.average, a.weighted_average)
        for child in children
        for a in found[child.id]
    }
    got = {
        (r["Ученик"], r["Предмет"]): (r["Оценок"], r["Средний балл"], r["Средневзвешенный балл"])
        for r in records(summary)
    }
    assert got == expected
    assert len(got) == 4
    # the children by name, each one's subjects by name
    ordered = sorted(children, key=lambda c: (c.last_name, c.first_name, c.middle_name or ""))
    assert [r["Ученик"] for r in records(summary)] == [c.full_name for c in ordered for _ in range(2)]

    maths = section(doc, "Математика")
    assert titles(maths)[:2] == ["Ученик", "Дата"]
    assert len(maths.rows) == 6  # the child's 4, the classmate's 2
    remarks = section(doc, headings.REMARKS)
    assert titles(remarks)[0] == "Ученик"
    assert len(remarks.rows) == 3
    # nothing of the second class
    assert diary.second_child.last_name not in texts(doc)


async def test_a_subject_teacher_sees_only_their_subjects_and_the_homeroom_teacher_all(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world

    async def class_report(by: User) -> list[str]:
        doc = await build(session, app_services, diary, by=by, kind=PROGRESS, scope=ReportScope.CLASS)
        subjects = {str(r["Предмет"]) for r in records(section(doc, headings.CHILDREN_SUMMARY))}
        remark_subjects = {r["Предмет"] for r in records(section(doc, headings.REMARKS))}
        grade_sections = [s.title for s in doc.sections if s.title not in (headings.CHILDREN_SUMMARY, headings.REMARKS)]
        assert grade_sections == sorted(subjects)
        assert remark_subjects - {None} <= subjects
        return grade_sections

    assert await class_report(w.teacher) == ["Математика"]
    assert await class_report(diary.russian_teacher) == ["Русский язык"]
    assert await class_report(diary.homeroom) == ["Математика", "Русский язык"]
    assert await class_report(w.admin) == ["Математика", "Русский язык"]

    # a child's report by the maths teacher: maths only, and the remark on Russian left out
    doc = await build(session, app_services, diary, by=w.teacher, kind=PROGRESS, scope=ReportScope.CHILD)
    assert [r["Предмет"] for r in records(section(doc, headings.SUBJECTS_SUMMARY))] == ["Математика"]
    assert "Читать больше" not in texts(doc)
    assert "Русский язык" not in texts(doc)


async def test_a_schools_report_per_class_and_subject_matches_grade_statistics(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    doc = await build(session, app_services, diary, by=w.admin, kind=PROGRESS, scope=ReportScope.SCHOOL)

    assert doc.title == f"Успеваемость: {w.school.short_name}"
    assert [s.title for s in doc.sections] == [headings.CLASSES_SUMMARY]
    summary = section(doc, headings.CLASSES_SUMMARY)
    assert titles(summary) == ["Класс", "Предмет", "Оценок", "Средний балл", "Средневзвешенный балл"]
    admin = (await load_actors(session, [w.admin.id]))[w.admin.id]
    expected = {}
    for school_class in (w.school_class, diary.second_class):
        stats = await statistics.grade_statistics(session, actor=admin, class_id=school_class.id, period_id=w.period.id)
        for s in stats.subjects:
            assert s.average is not None
            expected[(school_class.name, s.subject_name)] = (
                s.average.count,
                s.average.average,
                s.average.weighted_average,
            )
    got = {
        (r["Класс"], r["Предмет"]): (r["Оценок"], r["Средний балл"], r["Средневзвешенный балл"])
        for r in records(summary)
    }
    assert got == expected
    assert len(got) == 3
    # no child is named in it
    text = texts(doc)
    for child in (w.child, w.other_child, diary.second_child):
        assert child.last_name not in text


async def test_a_schools_report_runs_the_same_statements_whatever_its_size(
    session: AsyncSession, app_services: AppServices, diary: Diary, sql_counter: StatementCounter
) -> None:
    w = diary.world
    counts = []
    for kind in (ReportKind.PROGRESS, ReportKind.ATTENDANCE):
        with sql_counter:
            await build(session, app_services, diary, by=w.admin, kind=kind, scope=ReportScope.SCHOOL)
        counts.append(sql_counter.count)
    for _ in range(3):  # three more classes of four children with grades
        school_class = await make_school_class(session, school_id=w.school.id, academic_year_id=w.year.id)
        lesson = await make_lesson(session, school_class=school_class, subject_id=w.subject.id, teacher_id=w.teacher.id)
        for _ in range(4):
            child = await make_enrolled_child(session, class_id=school_class.id)
            await make_grade(session, lesson_id=lesson.id, child_id=child.id, value="4")
    await session.commit()
    grown = []
    for kind in (ReportKind.PROGRESS, ReportKind.ATTENDANCE):
        with sql_counter:
            doc = await build(session, app_services, diary, by=w.admin, kind=kind, scope=ReportScope.SCHOOL)
        grown.append(sql_counter.count)
        if kind is ReportKind.PROGRESS:
            assert len(section(doc, headings.CLASSES_SUMMARY).rows) == 6
    assert grown == counts
