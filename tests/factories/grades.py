"""Control types, grades and grade revisions."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import GradeAction, GradeKind
from ediary_gql.db.models.grades import ControlType, Grade, GradeRevision
from ediary_gql.db.models.lessons import Lesson
from tests.factories._base import SCHOOL_YEAR_START, persist, take_parents
from tests.factories.calendar import make_period
from tests.factories.children import make_enrolled_child
from tests.factories.classes import make_school_class, make_subject
from tests.factories.lessons import make_lesson
from tests.factories.schools import make_school, make_teacher

CONTROL_TYPES = (
    ("TEST", "Контрольная работа", Decimal("2.00")),
    ("INDEPENDENT", "Самостоятельная работа", Decimal("1.50")),
    ("ORAL", "Устный ответ", Decimal("1.00")),
    ("HOMEWORK", "Домашняя работа", Decimal("1.00")),
    ("DICTATION", "Диктант", Decimal("1.50")),
    ("LAB", "Лабораторная работа", Decimal("1.50")),
)


async def make_control_type(session: AsyncSession, **overrides: Any) -> ControlType:
    """The school's first control type not taken (a school is made unless one is
    given; pass `school_id=None` for a portal-wide default)."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "code" not in o:
        where = ControlType.school_id.is_(None) if o["school_id"] is None else ControlType.school_id == o["school_id"]
        taken = set((await session.scalars(select(ControlType.code).where(where))).all())
        k = 0
        while True:
            code, name, weight = CONTROL_TYPES[k % len(CONTROL_TYPES)]
            if k >= len(CONTROL_TYPES):
                round_ = k // len(CONTROL_TYPES) + 1
                code, name = f"{code}_{round_}", f"{name} ({round_})"
            if code not in taken:
                break
            k += 1
        o["code"] = code
        o.setdefault("name", name)
        o.setdefault("weight", weight)
    fields: dict[str, Any] = {"name": o["code"].title(), "weight": Decimal("1.00")}
    fields.update(o)
    return await persist(session, ControlType(**fields))


async def make_grade(session: AsyncSession, **overrides: Any) -> Grade:
    """A 3, 4 or 5 at a lesson (made unless a lesson or a class is given) for a
    child of the class (made and enrolled unless given), by the lesson's teacher."""
    o = take_parents(overrides)
    lesson: Lesson | None = None
    if "lesson_id" not in o and "class_id" not in o:
        o["lesson_id"] = (await make_lesson(session)).id
    if o.get("lesson_id") is not None:
        lesson = await session.get(Lesson, o["lesson_id"])
        assert lesson is not None
        o.setdefault("class_id", lesson.class_id)
        o.setdefault("subject_id", lesson.subject_id)
        o.setdefault("teacher_id", lesson.teacher_id)
        o.setdefault("graded_on", lesson.date)
    else:
        o.setdefault("lesson_id", None)
        if "class_id" not in o:
            o["class_id"] = (await make_school_class(session)).id
        school_class = await session.get(SchoolClass, o["class_id"])
        assert school_class is not None
        if "subject_id" not in o:
            o["subject_id"] = (await make_subject(session, school_id=school_class.school_id)).id
        if "teacher_id" not in o:
            o["teacher_id"] = (await make_teacher(session, school_id=school_class.school_id)).id
        o.setdefault("graded_on", SCHOOL_YEAR_START)
    if "child_id" not in o:
        o["child_id"] = (await make_enrolled_child(session, class_id=o["class_id"])).id
    if o.get("kind") is GradeKind.PERIOD_FINAL and "period_id" not in o:
        final_class = await session.get(SchoolClass, o["class_id"])
        assert final_class is not None
        o["period_id"] = (await make_period(session, academic_year_id=final_class.academic_year_id)).id
    if "control_type_id" in o and o["control_type_id"] is not None and "weight" not in o:
        control_type = await session.get(ControlType, o["control_type_id"])
        assert control_type is not None
        o["weight"] = control_type.weight
    value = o.get("value") or random.choice(["3", "4", "5"])
    if "school_id" not in o:  # the class's school, as the services copy it
        grade_class = await session.get(SchoolClass, o["class_id"])
        assert grade_class is not None
        o["school_id"] = grade_class.school_id
    fields: dict[str, Any] = {
        "kind": GradeKind.REGULAR,
        "value": value,
        "numeric_value": int(value) if value.isdigit() else None,
        "weight": Decimal("1.00"),
    }
    fields.update(o)
    return await persist(session, Grade(**fields))


async def make_grade_revision(session: AsyncSession, **overrides: Any) -> GradeRevision:
    """By default the CREATED step of the grade, by its teacher."""
    o = take_parents(overrides)
    if "grade_id" not in o:
        o["grade_id"] = (await make_grade(session)).id
    grade = await session.get(Grade, o["grade_id"])
    assert grade is not None
    fields: dict[str, Any] = {
        "school_id": grade.school_id,
        "action": GradeAction.CREATED,
        "old_value": None,
        "new_value": grade.value,
        "new_comment": grade.comment,
        "changed_by_id": grade.teacher_id,
    }
    fields.update(o)
    return await persist(session, GradeRevision(**fields))
