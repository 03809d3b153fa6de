"""Checks of a lesson's fields, its class and subject, the actor's subjects, its teacher's
assignment, and its date: in the year, and not a day off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, CalendarOverride, Holiday
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import diary_facts
from ediary_gql.services.production_calendar import WorkingCalendar, holiday_name

ROOM_MAX = 32
TOPIC_MAX = 500


async def class_and_subject(session: AsyncSession, class_id: int, subject_id: int) -> tuple[SchoolClass, Subject]:
    school_class = await session.get(SchoolClass, class_id)
    subject = await session.get(Subject, subject_id)
    errors = ErrorCollector()
    if school_class is None:
        errors.add("classId", ErrorCode.NOT_FOUND, "Класс не найден")
    if subject is None or (school_class is not None and subject.school_id != school_class.school_id):
        errors.add("subjectId", ErrorCode.NOT_FOUND, "Предмет не найден в школе класса")
    errors.raise_if_any()
    assert school_class is not None  # noqa: S101 - checked above
    assert subject is not None  # noqa: S101 - checked above
    return school_class, subject


async def subjects_of_school(session: AsyncSession, school_id: int, subject_ids: Iterable[int]) -> frozenset[int]:
    ids = list(subject_ids)
    if not ids:
        return frozenset()
    rows = await session.scalars(select(Subject.id).where(Subject.school_id == school_id, Subject.id.in_(ids)))
    return frozenset(rows.all())


async def require_may_write_subjects(
    session: AsyncSession, *, actor: Actor, school_class: SchoolClass, subject_ids: Iterable[int]
) -> None:
    """A template covers several subjects: the actor must be allowed each of them."""
    mine = {pair for _, pair in await diary_facts.assignments_of(session, [actor.user_id])}
    for subject_id in set(subject_ids) or {-1}:
        policy.ensure(
            policy.can_write_diary(
                actor, school_id=school_class.school_id, assigned=(school_class.id, subject_id) in mine
            ),
            "Составлять расписание класса могут ответственный за дневник школы "
            "и учителя, назначенные на эти предметы в этом классе",
        )


def clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def check_fields(
    errors: ErrorCollector,
    *,
    start_time: dt.time,
    end_time: dt.time,
    lesson_number: int | None,
    room: str | None,
    topic: str | None,
    prefix: tuple[str, ...] = (),
) -> None:
    if start_time >= end_time:
        errors.add((*prefix, "endTime"), ErrorCode.INVALID, "Урок должен заканчиваться позже, чем начинается")
    if lesson_number is not None and not 0 <= lesson_number <= 20:
        errors.add((*prefix, "lessonNumber"), ErrorCode.INVALID, "Номер урока — число от 0 до 20")
    if room is not None and len(room) > ROOM_MAX:
        errors.add((*prefix, "room"), ErrorCode.TOO_LONG, f"Кабинет — не длиннее {ROOM_MAX} символов")
    if topic is not None and len(topic) > TOPIC_MAX:
        errors.add((*prefix, "topic"), ErrorCode.TOO_LONG, f"Тема — не длиннее {TOPIC_MAX} символов")


async def check_in_year(session: AsyncSession, errors: ErrorCollector, school_class: SchoolClass, day: dt.date) -> None:
    check_year(errors, await session.get(AcademicYear, school_class.academic_year_id), day)


def check_year(
    errors: ErrorCollector, year: AcademicYear | None, day: dt.date, field: Sequence[str] = ("date",)
) -> None:
    """A lesson's date lies in its class's academic year (`year`)."""
    if year is not None and not year.starts_on <= day <= year.ends_on:
        errors.add(
            field,
            ErrorCode.INVALID,
            f"Дата вне учебного года {year.name} ({year.starts_on:%d.%m.%Y}–{year.ends_on:%d.%m.%Y})",
        )


async def assigned_pairs(
    session: AsyncSession, class_id: int, teacher_ids: Iterable[int]
) -> frozenset[tuple[int, int]]:
    """(teacher id, subject id) of the teachers' assignments in the class."""
    found = await assignments_in(session, [class_id], teacher_ids)
    return frozenset((teacher, subject) for _, teacher, subject in found)


async def assignments_in(
    session: AsyncSession, class_ids: Iterable[int], teacher_ids: Iterable[int]
) -> frozenset[tuple[int, int, int]]:
    """(class id, teacher id, subject id) of the teachers' assignments in the classes."""
    classes, teachers = list(set(class_ids)), list(set(teacher_ids))
    if not classes or not teachers:
        return frozenset()
    rows = await session.execute(
        select(TeachingAssignment.class_id, TeachingAssignment.teacher_id, TeachingAssignment.subject_id).where(
            TeachingAssignment.class_id.in_(classes), TeachingAssignment.teacher_id.in_(teachers)
        )
    )
    return frozenset((c, t, s) for c, t, s in rows.all())


NOT_ASSIGNED = "Учитель не назначен на этот предмет в этом классе: сначала назначьте его (assignTeacher)"
NOT_STAFF = "Учитель не найден среди сотрудников школы"


def check_substitute(
    errors: ErrorCollector, field: Sequence[str], *, substitute: int, teacher_id: int, staff: frozenset[int]
) -> None:
    """A lesson's substitute (`staff`: who of the asked are the school's staff)."""
    if substitute == teacher_id:
        errors.add(field, ErrorCode.INVALID, "Замена не может совпадать с учителем урока")
    elif substitute not in staff:
        errors.add(field, ErrorCode.NOT_FOUND, NOT_STAFF)


async def days_off(session: AsyncSession, school_id: int, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The days in [first, last] with no lessons, each with its name: the school's holidays,
    public holidays, and weekdays the production calendar makes days off. A Saturday
    (six-day schools) or a Sunday is a school day unless it is a public holiday."""
    off: dict[dt.date, str] = {}
    rows = await session.execute(
        select(Holiday.name, Holiday.starts_on, Holiday.ends_on)
        .where(Holiday.school_id == school_id, Holiday.starts_on <= last, Holiday.ends_on >= first)
        .order_by(Holiday.starts_on, Holiday.id)
    )
    for name, starts, ends in rows.all():
        day = max(starts, first)
        while day <= min(ends, last):
            off.setdefault(day, name)
            day += dt.timedelta(days=1)
    overrides = (
        await session.execute(
            select(CalendarOverride.date, CalendarOverride.is_working, CalendarOverride.note).where(
                CalendarOverride.date >= first, CalendarOverride.date <= last
            )
        )
    ).all()
    calendar = WorkingCalendar(overrides={day: bool(working) for day, working, _ in overrides})
    notes = {day: note for day, working, note in overrides if not working and note}
    day = first
    while day <= last:
        public = holiday_name(day)
        if day not in off and not calendar.is_working_day(day) and (day.isoweekday() <= 5 or public is not None):
            off[day] = notes.get(day) or public or "нерабочий день по производственному календарю"
        day += dt.timedelta(days=1)
    return off


async def check_not_day_off(
    session: AsyncSession, errors: ErrorCollector, school_id: int, day: dt.date, *, allowed: bool
) -> None:
    """A lesson is not held on a day off unless the caller says so (a make-up day)."""
    if allowed:
        return
    check_day(errors, day, (await days_off(session, school_id, day, day)).get(day))


def check_day(errors: ErrorCollector, day: dt.date, off: str | None, field: Sequence[str] = ("date",)) -> None:
    """No lesson on a day off (`off`: the day's name from `days_off`, None for a school day)."""
    if off is not None:
        errors.add(
            field,
            ErrorCode.INVALID,
            f"{day:%d.%m.%Y} — {off}: уроков в этот день нет. Если это день отработки, укажите allowOnHoliday: true",
        )
