"""Subjects, classes and teaching assignments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from tests.factories._base import persist, take_parents
from tests.factories.calendar import make_academic_year
from tests.factories.schools import make_school, make_teacher

SUBJECTS = (
    ("Математика", "Мат."),
    ("Русский язык", "Рус. яз."),
    ("Литература", "Лит."),
    ("Английский язык", "Англ. яз."),
    ("История", "Ист."),
    ("Обществознание", "Общ."),
    ("География", "Геогр."),
    ("Биология", "Биол."),
    ("Физика", "Физ."),
    ("Химия", "Хим."),
    ("Информатика", "Инф."),
    ("Физическая культура", "Физ-ра"),
    ("Музыка", "Муз."),
    ("Изобразительное искусство", "ИЗО"),
    ("Труд (технология)", "Труд"),
    ("Основы безопасности и защиты Родины", "ОБЗР"),
)

LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
_LEVELS = (5, 6, 7, 8, 9, 10, 11, 1, 2, 3, 4)


async def make_subject(session: AsyncSession, **overrides: Any) -> Subject:
    """The school's first school subject not taken yet: Математика, Русский язык, …"""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "name" not in o:
        taken = set((await session.scalars(select(Subject.name).where(Subject.school_id == o["school_id"]))).all())
        for k in range(10_000):
            name, short = SUBJECTS[k % len(SUBJECTS)]
            if k >= len(SUBJECTS):
                name, short = f"{name} {k // len(SUBJECTS) + 1}", f"{short}{k // len(SUBJECTS) + 1}"
            if name not in taken:
                o["name"] = name
                o.setdefault("short_name", short)
                break
    fields: dict[str, Any] = {}
    fields.update(o)
    return await persist(session, Subject(**fields))


async def make_school_class(session: AsyncSession, **overrides: Any) -> SchoolClass:
    """The first class not taken in the year: 5А, 6А, … 4А, 5Б, …

    The year defaults to the school's latest (made if there is none).
    """
    o = take_parents(overrides)
    if "academic_year_id" in o:
        year = await session.get(AcademicYear, o["academic_year_id"])
        assert year is not None
        o.setdefault("school_id", year.school_id)
    else:
        if "school_id" not in o:
            o["school_id"] = (await make_school(session)).id
        year = await session.scalar(
            select(AcademicYear)
            .where(AcademicYear.school_id == o["school_id"])
            .order_by(AcademicYear.starts_on.desc())
            .limit(1)
        )
        if year is None:
            year = await make_academic_year(session, school_id=o["school_id"])
        o["academic_year_id"] = year.id
    if "level" not in o or "letter" not in o:
        taken = {
            tuple(row)
            for row in (
                await session.execute(
                    select(SchoolClass.level, SchoolClass.letter).where(
                        SchoolClass.academic_year_id == o["academic_year_id"]
                    )
                )
            )
        }
        levels = [o["level"]] if "level" in o else list(_LEVELS)
        letters = [o["letter"]] if "letter" in o else list(LETTERS)
        o["level"], o["letter"] = next(
            (level, letter) for letter in letters for level in levels if (level, letter) not in taken
        )
    fields: dict[str, Any] = {}
    fields.update(o)
    return await persist(session, SchoolClass(**fields))


async def make_teaching_assignment(session: AsyncSession, **overrides: Any) -> TeachingAssignment:
    """Teacher × class × subject, all of one school (made as needed)."""
    o = take_parents(overrides)
    if "class_id" not in o:
        o["class_id"] = (await make_school_class(session)).id
    school_class = await session.get(SchoolClass, o["class_id"])
    assert school_class is not None
    if "subject_id" not in o:
        o["subject_id"] = (await make_subject(session, school_id=school_class.school_id)).id
    if "teacher_id" not in o:
        o["teacher_id"] = (await make_teacher(session, school_id=school_class.school_id)).id
    return await persist(session, TeachingAssignment(**o))
