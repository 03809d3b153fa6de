"""Classes: a level 1–11 and a letter in an academic year, with a homeroom teacher."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.school_setup.checks import is_active_teacher, require_setup

CLASS_LETTER = re.compile(r"^[А-ЯЁ]$")


def check_class_letter(letter: str, *, field: str | Sequence[str] = "letter") -> str:
    clean = (letter or "").strip().upper()
    if not CLASS_LETTER.match(clean):
        raise DomainError(ErrorCode.INVALID, "Литера класса — одна заглавная русская буква, например А", field=field)
    return clean


def check_class_level(level: int, *, field: str | Sequence[str] = "level") -> int:
    if not 1 <= level <= 11:
        raise DomainError(ErrorCode.INVALID, "Параллель — число от 1 до 11", field=field)
    return level


async def create_class(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    academic_year_id: int,
    level: int,
    letter: str,
    homeroom_teacher_id: int | None = None,
) -> SchoolClass:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_level = errors.check(lambda: check_class_level(level))
    clean_letter = errors.check(lambda: check_class_letter(letter))
    year = await session.get(AcademicYear, academic_year_id)
    if year is None or year.school_id != school_id:
        errors.add("academicYearId", ErrorCode.NOT_FOUND, "Учебный год этой школы не найден")
        year = None
    if homeroom_teacher_id is not None and not await is_active_teacher(session, homeroom_teacher_id, school_id):
        errors.add("homeroomTeacherId", ErrorCode.INVALID, "Классный руководитель должен быть учителем этой школы")
    if year is not None and clean_level is not None and clean_letter is not None:
        taken = await session.scalar(
            select(SchoolClass.id).where(
                SchoolClass.academic_year_id == year.id,
                SchoolClass.level == clean_level,
                SchoolClass.letter == clean_letter,
            )
        )
        if taken is not None:
            errors.add("letter", ErrorCode.DUPLICATE, f"Класс {clean_level}{clean_letter} в этом году уже есть")
    errors.raise_if_any()
    assert clean_level is not None  # noqa: S101 - checked above
    assert clean_letter is not None  # noqa: S101 - checked above
    klass = SchoolClass(
        school_id=school_id,
        academic_year_id=academic_year_id,
        level=clean_level,
        letter=clean_letter,
        homeroom_teacher_id=homeroom_teacher_id,
    )
    session.add(klass)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createClass",
        entity_type="SchoolClass",
        entity_id=klass.id,
        school_id=school_id,
        after={
            "academicYearId": academic_year_id,
            "level": clean_level,
            "letter": clean_letter,
            "homeroomTeacherId": homeroom_teacher_id,
        },
    )
    return klass
