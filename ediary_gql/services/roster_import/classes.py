"""The classes file: a class found by sourcedId, else by year, level and letter, else new."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode
from ediary_gql.services.roster_import.cells import int_value, referenced, required_text, sourced_ids
from ediary_gql.services.roster_import.lookup import assign, by_external_id
from ediary_gql.services.roster_import.run import Run
from ediary_gql.services.school_setup.classes import CLASS_LETTER


async def import_classes(session: AsyncSession, run: Run, teachers: dict[str, User]) -> dict[str, SchoolClass]:
    rows = sourced_ids(run, "classes")
    wanted = rows.keys() | referenced(run, ("children", "classSourcedId"), ("timetable", "classSourcedId"))
    existing = await by_external_id(session, SchoolClass, run.school_id, wanted)
    years = {
        y.name: y for y in await session.scalars(select(AcademicYear).where(AcademicYear.school_id == run.school_id))
    }
    result: dict[str, SchoolClass] = {sid: c for sid, c in existing.items() if sid not in rows}
    if not rows:
        return result
    tally = run.tally("classes")
    by_key: dict[tuple[int, int, str], SchoolClass] = {}
    for c in await session.scalars(
        select(SchoolClass).where(
            SchoolClass.school_id == run.school_id, SchoolClass.academic_year_id.in_([y.id for y in years.values()])
        )
    ):
        by_key[(c.academic_year_id, c.level, c.letter)] = c
    seen: dict[tuple[int, int, str], int] = {}
    for sid, row in rows.items():
        year_name = required_text(run, row, "academicYear", 20)
        year = years.get(year_name or "")
        if year_name and year is None:
            run.bad(row, "academicYear", ErrorCode.NOT_FOUND, "Такого учебного года в школе нет: создайте его")
        level = int_value(run, row, "level", 1, 11)
        letter = row.get("letter").upper()
        if not CLASS_LETTER.match(letter):
            run.bad(row, "letter", ErrorCode.INVALID, "Одна заглавная русская буква, например А")
            letter = ""
        homeroom = None
        homeroom_sid = row.get("homeroomTeacherSourcedId")
        if homeroom_sid:
            teacher = teachers.get(homeroom_sid)
            if teacher is None:
                run.missing(
                    row, "homeroomTeacherSourcedId", "teachers", [homeroom_sid], "Учитель с таким sourcedId не найден"
                )
                continue
            homeroom = teacher
        if year is None or level is None or not letter:
            continue
        ok, klass = run.claim(
            row,
            "letter",
            sid=sid,
            key=(year.id, level, letter),
            seen=seen,
            own=existing.get(sid),
            by_key=by_key,
            again=f"Класс {level}{letter} уже в строке",
            taken=f"Класс {level}{letter} уже есть у другого sourcedId",
        )
        if not ok:
            continue
        values = {
            "academic_year_id": year.id,
            "level": level,
            "letter": letter,
            "external_id": sid,
            "homeroom_teacher": homeroom,
        }
        if klass is None:
            klass = SchoolClass(
                school_id=run.school_id, academic_year_id=year.id, level=level, letter=letter, external_id=sid
            )
            klass.homeroom_teacher_id = None
            session.add(klass)
            tally.created += 1
            result[sid] = klass
            _pending_homeroom(run, klass, homeroom)
            continue
        values.pop("homeroom_teacher")
        changed = assign(klass, values)
        if homeroom is not None and homeroom.id is not None and klass.homeroom_teacher_id != homeroom.id:
            changed = True
        _pending_homeroom(run, klass, homeroom)
        tally.updated += int(changed)
        tally.unchanged += int(not changed)
        result[sid] = klass
    await session.flush()
    for klass, teacher in run.homerooms:
        klass.homeroom_teacher_id = teacher.id
    return result


def _pending_homeroom(run: Run, klass: SchoolClass, teacher: User | None) -> None:
    if teacher is not None:
        run.homerooms.append((klass, teacher))
