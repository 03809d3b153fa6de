"""The schedule: lessons made by hand, weekly timetable templates, lessons generated
from a template over a period.

No teacher, class or room is booked twice at overlapping times on a date, and an
exact duplicate is refused; each refusal names the lesson in the way. The check
runs under a per-school lock (see `diary_access.lock_school`), so two racing
requests serialize and the second sees the first's lesson; the unique index
(class_id, date, start_time) backs exact duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import holidays
from sqlalchemy import and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, FieldError, not_found
from ediary_gql.services import audit, diary_access
from ediary_gql.services.production_calendar import load_calendar

ROOM_MAX = 32
TOPIC_MAX = 500
NAME_MAX = 200
GENERATE_MAX_DAYS = 366


class _Keep:
    """A field an update leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True, slots=True)
class LessonData:
    class_id: int
    subject_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    teacher_id: int | None = None  # None: the actor teaches it
    lesson_number: int | None = None
    room: str | None = None
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class LessonChanges:
    date: dt.date | _Keep = KEEP
    start_time: dt.time | _Keep = KEEP
    end_time: dt.time | _Keep = KEEP
    lesson_number: int | _Keep | None = KEEP
    room: str | _Keep | None = KEEP
    topic: str | _Keep | None = KEEP
    status: LessonStatus | _Keep = KEEP
    substitute_teacher_id: int | _Keep | None = KEEP


@dataclass(frozen=True, slots=True)
class SlotData:
    weekday: int
    start_time: dt.time
    end_time: dt.time
    subject_id: int
    teacher_id: int
    lesson_number: int = 0
    room: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateData:
    class_id: int
    period_id: int
    name: str
    slots: Sequence[SlotData]


@dataclass(frozen=True, slots=True)
class SkippedLesson:
    """A lesson `generate_lessons` did not make, and why (CONFLICT or DUPLICATE)."""

    date: dt.date
    start_time: dt.time
    code: ErrorCode
    message: str
    conflicting_lesson_id: int | None


@dataclass(slots=True)
class GenerationResult:
    created: list[Lesson] = field(default_factory=list)
    already_present: int = 0
    skipped: list[SkippedLesson] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Booking:
    """What a lesson occupies: its class, the teacher actually teaching it, its room."""

    school_id: int
    class_id: int
    subject_id: int
    teacher_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    room: str | None

    @classmethod
    def of(cls, lesson: Lesson) -> _Booking:
        return cls(
            school_id=lesson.school_id,
            class_id=lesson.class_id,
            subject_id=lesson.subject_id,
            teacher_id=lesson.substitute_teacher_id or lesson.teacher_id,
            date=lesson.date,
            start_time=lesson.start_time,
            end_time=lesson.end_time,
            room=lesson.room,
        )


# --- lessons by hand -------------------------------------------------------


async def create_lesson(session: AsyncSession, *, actor: Actor, data: LessonData) -> Lesson:
    school_class, _subject = await _class_and_subject(session, data.class_id, data.subject_id)
    await diary_access.require_may_write(session, actor=actor, school_class=school_class, subject_id=data.subject_id)

    errors = ErrorCollector()
    teacher_id = data.teacher_id if data.teacher_id is not None else actor.user_id
    if teacher_id not in await diary_access.staff_of(session, school_id=school_class.school_id, user_ids=[teacher_id]):
        errors.add("teacherId", ErrorCode.NOT_FOUND, "Учитель не найден среди сотрудников школы")
    room = _clean(data.room)
    topic = _clean(data.topic)
    _check_fields(
        errors,
        start_time=data.start_time,
        end_time=data.end_time,
        lesson_number=data.lesson_number,
        room=room,
        topic=topic,
    )
    await _check_in_year(session, errors, school_class, data.date)
    errors.raise_if_any()

    lesson = Lesson(
        school_id=school_class.school_id,
        class_id=school_class.id,
        subject_id=data.subject_id,
        teacher_id=teacher_id,
        date=data.date,
        start_time=data.start_time,
        end_time=data.end_time,
        lesson_number=data.lesson_number,
        room=room,
        topic=topic,
        status=LessonStatus.SCHEDULED,
    )
    await diary_access.lock_school(session, school_class.school_id)
    await _refuse_conflicts(session, _Booking.of(lesson), exclude_id=None, teacher_field="teacherId")
    await _insert(session, [lesson])
    audit.record(
        session,
        actor=actor,
        action="createLesson",
        entity_type="Lesson",
        entity_id=lesson.id,
        after=_snapshot(lesson),
        school_id=lesson.school_id,
    )
    return lesson


async def update_lesson(session: AsyncSession, *, actor: Actor, lesson_id: int, changes: LessonChanges) -> Lesson:
    """Move, cancel or restore a lesson, set a substitute teacher, its topic or room."""
    lesson, school_class = await diary_access.lesson_to_write(
        session, actor=actor, lesson_id=lesson_id, substitute_may_write=False
    )
    before = _snapshot(lesson)

    errors = ErrorCollector()
    date = lesson.date if isinstance(changes.date, _Keep) else changes.date
    start = lesson.start_time if isinstance(changes.start_time, _Keep) else changes.start_time
    end = lesson.end_time if isinstance(changes.end_time, _Keep) else changes.end_time
    number = lesson.lesson_number if isinstance(changes.lesson_number, _Keep) else changes.lesson_number
    room = lesson.room if isinstance(changes.room, _Keep) else _clean(changes.room)
    topic = lesson.topic if isinstance(changes.topic, _Keep) else _clean(changes.topic)
    status = lesson.status if isinstance(changes.status, _Keep) else changes.status
    substitute = (
        lesson.substitute_teacher_id
        if isinstance(changes.substitute_teacher_id, _Keep)
        else changes.substitute_teacher_id
    )
    _check_fields(errors, start_time=start, end_time=end, lesson_number=number, room=room, topic=topic)
    if date != lesson.date:
        await _check_in_year(session, errors, school_class, date)
    if substitute is not None and substitute != lesson.substitute_teacher_id:
        if substitute == lesson.teacher_id:
            errors.add("substituteTeacherId", ErrorCode.INVALID, "Замена не может совпадать с учителем урока")
        elif substitute not in await diary_access.staff_of(session, school_id=lesson.school_id, user_ids=[substitute]):
            errors.add("substituteTeacherId", ErrorCode.NOT_FOUND, "Учитель не найден среди сотрудников школы")
    errors.raise_if_any()

    booking_changed = (date, start, end, room, substitute, status) != (
        lesson.date,
        lesson.start_time,
        lesson.end_time,
        lesson.room,
        lesson.substitute_teacher_id,
        lesson.status,
    )
    lesson.date, lesson.start_time, lesson.end_time = date, start, end
    lesson.lesson_number, lesson.room, lesson.topic = number, room, topic
    lesson.status, lesson.substitute_teacher_id = status, substitute
    if booking_changed and status == LessonStatus.SCHEDULED:
        await diary_access.lock_school(session, lesson.school_id)
        teacher_field = "substituteTeacherId" if substitute is not None else "teacherId"
        await _refuse_conflicts(session, _Booking.of(lesson), exclude_id=lesson.id, teacher_field=teacher_field)
    elif booking_changed:
        # a cancelled lesson books nothing, but still holds its (class, date, start) slot
        await _refuse_conflicts(
            session, _Booking.of(lesson), exclude_id=lesson.id, teacher_field="teacherId", slot_only=True
        )
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _duplicate_slot() from None
    audit.record(
        session,
        actor=actor,
        action="updateLesson",
        entity_type="Lesson",
        entity_id=lesson.id,
        before=before,
        after=_snapshot(lesson),
        school_id=lesson.school_id,
    )
    return lesson


# --- timetable templates ---------------------------------------------------


async def create_timetable_template(session: AsyncSession, *, actor: Actor, data: TemplateData) -> TimetableTemplate:
    school_class = await session.get(SchoolClass, data.class_id)
    if school_class is None:
        raise not_found("classId", "Класс не найден")
    errors = ErrorCollector()
    period = await session.get(Period, data.period_id)
    if period is None or period.academic_year_id != school_class.academic_year_id:
        errors.add("periodId", ErrorCode.NOT_FOUND, "Период не найден в учебном году класса")
    name = (data.name or "").strip()
    if not name:
        errors.add("name", ErrorCode.REQUIRED, "Укажите название расписания")
    elif len(name) > NAME_MAX:
        errors.add("name", ErrorCode.TOO_LONG, f"Название длиннее {NAME_MAX} символов")
    if not data.slots:
        errors.add("slots", ErrorCode.REQUIRED, "Добавьте хотя бы один урок в расписание")

    subjects = await _subjects_of_school(session, school_class.school_id, {s.subject_id for s in data.slots})
    staff = await diary_access.staff_of(
        session, school_id=school_class.school_id, user_ids={s.teacher_id for s in data.slots}
    )
    await _require_may_write_subjects(session, actor=actor, school_class=school_class, subject_ids=subjects)
    for i, slot in enumerate(data.slots):
        path = ("slots", str(i))
        if not 1 <= slot.weekday <= 7:
            errors.add((*path, "weekday"), ErrorCode.INVALID, "День недели — число от 1 (понедельник) до 7")
        if slot.subject_id not in subjects:
            errors.add((*path, "subjectId"), ErrorCode.NOT_FOUND, "Предмет не найден в школе")
        if slot.teacher_id not in staff:
            errors.add((*path, "teacherId"), ErrorCode.NOT_FOUND, "Учитель не найден среди сотрудников школы")
        _check_fields(
            errors,
            start_time=slot.start_time,
            end_time=slot.end_time,
            lesson_number=slot.lesson_number,
            room=_clean(slot.room),
            topic=None,
            prefix=path,
        )
        for j, other in enumerate(data.slots[:i]):
            if other.weekday == slot.weekday and _overlap(
                other.start_time, other.end_time, slot.start_time, slot.end_time
            ):
                errors.add(
                    (*path, "startTime"),
                    ErrorCode.CONFLICT,
                    f"Урок пересекается с уроком №{j + 1} этого расписания "
                    f"({_hhmm(other.start_time)}–{_hhmm(other.end_time)})",
                )
    errors.raise_if_any()

    template = TimetableTemplate(
        school_id=school_class.school_id,
        class_id=school_class.id,
        period_id=data.period_id,
        name=name,
        created_by_id=actor.user_id,
    )
    session.add(template)
    await session.flush()
    session.add_all(
        TimetableSlot(
            template_id=template.id,
            weekday=s.weekday,
            lesson_number=s.lesson_number,
            start_time=s.start_time,
            end_time=s.end_time,
            subject_id=s.subject_id,
            teacher_id=s.teacher_id,
            room=_clean(s.room),
        )
        for s in data.slots
    )
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createTimetableTemplate",
        entity_type="TimetableTemplate",
        entity_id=template.id,
        after={"name": name, "class_id": school_class.id, "period_id": data.period_id, "slots": len(data.slots)},
        school_id=school_class.school_id,
    )
    return template


async def template_slots(session: AsyncSession, template_ids: list[int]) -> list[tuple[int, TimetableSlot]]:
    rows = await session.scalars(
        select(TimetableSlot)
        .where(TimetableSlot.template_id.in_(template_ids))
        .order_by(TimetableSlot.weekday, TimetableSlot.start_time)
    )
    return [(row.template_id, row) for row in rows]


async def generate_lessons(
    session: AsyncSession, *, actor: Actor, template_id: int, start: dt.date, end: dt.date
) -> GenerationResult:
    """Lessons for each week's slots from `start` to `end` (within the template's
    period), skipping the school's holidays and the production calendar's days off.
    Idempotent: a slot whose lesson was generated before is left alone. A slot that
    would double-book a class, teacher or room is not made and is reported."""
    template = await session.get(TimetableTemplate, template_id)
    if template is None:
        raise not_found("templateId", "Шаблон расписания не найден")
    school_class = await session.get(SchoolClass, template.class_id)
    period = await session.get(Period, template.period_id)
    assert school_class is not None  # noqa: S101 - a foreign key
    assert period is not None  # noqa: S101 - a foreign key
    slots = [slot for _, slot in await template_slots(session, [template.id])]
    await _require_may_write_subjects(
        session, actor=actor, school_class=school_class, subject_ids={s.subject_id for s in slots}
    )

    errors = ErrorCollector()
    first, last = max(start, period.starts_on), min(end, period.ends_on)
    if start > end:
        errors.add("to", ErrorCode.INVALID, "Дата окончания раньше даты начала")
    elif first > last:
        errors.add("from", ErrorCode.INVALID, f"Даты вне периода {period.name} ({period.starts_on}–{period.ends_on})")
    elif (last - first).days >= GENERATE_MAX_DAYS:
        errors.add("to", ErrorCode.INVALID, "Не больше года за один раз")
    errors.raise_if_any()

    days_off = await _days_off(session, school_class.school_id, first, last)
    by_weekday: dict[int, list[TimetableSlot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    planned: list[Lesson] = []
    day = first
    while day <= last:
        if day not in days_off:
            planned.extend(
                Lesson(
                    school_id=template.school_id,
                    class_id=template.class_id,
                    subject_id=slot.subject_id,
                    teacher_id=slot.teacher_id,
                    date=day,
                    start_time=slot.start_time,
                    end_time=slot.end_time,
                    lesson_number=slot.lesson_number,
                    room=slot.room,
                    status=LessonStatus.SCHEDULED,
                    template_id=template.id,
                )
                for slot in by_weekday.get(day.isoweekday(), [])
            )
        day += dt.timedelta(days=1)

    result = GenerationResult()
    await diary_access.lock_school(session, template.school_id)
    existing = await _booked(session, [_Booking.of(lesson) for lesson in planned], exclude_id=None)
    labels = await _labels(session, existing)
    taken = list(existing)
    for lesson in planned:
        if any(
            e.template_id == template.id
            and e.class_id == lesson.class_id
            and e.date == lesson.date
            and e.start_time == lesson.start_time
            for e in existing
        ):
            result.already_present += 1
            continue
        found = _conflicts(_Booking.of(lesson), taken, labels, teacher_field="teacherId")
        if found:
            problem, other = found[0]
            result.skipped.append(
                SkippedLesson(
                    date=lesson.date,
                    start_time=lesson.start_time,
                    code=problem.code,
                    message=problem.message,
                    conflicting_lesson_id=other.id,
                )
            )
            continue
        result.created.append(lesson)
        taken.append(lesson)
    await _insert(session, result.created)
    audit.record(
        session,
        actor=actor,
        action="generateLessons",
        entity_type="TimetableTemplate",
        entity_id=template.id,
        after={
            "from": first.isoformat(),
            "to": last.isoformat(),
            "created": len(result.created),
            "already_present": result.already_present,
            "skipped": len(result.skipped),
        },
        school_id=template.school_id,
    )
    return result


# --- helpers ---------------------------------------------------------------


async def _class_and_subject(session: AsyncSession, class_id: int, subject_id: int) -> tuple[SchoolClass, Subject]:
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


async def _subjects_of_school(session: AsyncSession, school_id: int, subject_ids: Iterable[int]) -> frozenset[int]:
    ids = list(subject_ids)
    if not ids:
        return frozenset()
    rows = await session.scalars(select(Subject.id).where(Subject.school_id == school_id, Subject.id.in_(ids)))
    return frozenset(rows.all())


async def _require_may_write_subjects(
    session: AsyncSession, *, actor: Actor, school_class: SchoolClass, subject_ids: Iterable[int]
) -> None:
    """A template covers several subjects: the actor must be allowed each of them."""
    mine = {pair for _, pair in await diary_access.assignments_of(session, [actor.user_id])}
    from ediary_gql.auth import policy

    for subject_id in set(subject_ids) or {-1}:
        policy.ensure(
            policy.can_write_diary(
                actor, school_id=school_class.school_id, assigned=(school_class.id, subject_id) in mine
            ),
            "Составлять расписание класса могут ответственный за дневник школы "
            "и учителя, назначенные на эти предметы в этом классе",
        )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_fields(
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


async def _check_in_year(
    session: AsyncSession, errors: ErrorCollector, school_class: SchoolClass, day: dt.date
) -> None:
    year = await session.get(AcademicYear, school_class.academic_year_id)
    if year is not None and not year.starts_on <= day <= year.ends_on:
        errors.add(
            "date",
            ErrorCode.INVALID,
            f"Дата вне учебного года {year.name} ({year.starts_on:%d.%m.%Y}–{year.ends_on:%d.%m.%Y})",
        )


async def _days_off(session: AsyncSession, school_id: int, first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """School holidays, public holidays, and weekdays the production calendar makes days off.
    A Saturday (six-day schools) is a school day unless it is a public holiday."""
    rows = await session.execute(
        select(Holiday.starts_on, Holiday.ends_on).where(
            Holiday.school_id == school_id, Holiday.starts_on <= last, Holiday.ends_on >= first
        )
    )
    off: set[dt.date] = set()
    for starts, ends in rows.all():
        day = max(starts, first)
        while day <= min(ends, last):
            off.add(day)
            day += dt.timedelta(days=1)
    calendar = await load_calendar(session, first, last)
    public = holidays.country_holidays("RU", years=range(first.year, last.year + 1))
    day = first
    while day <= last:
        if not calendar.is_working_day(day) and (day.isoweekday() <= 5 or day in public):
            off.add(day)
        day += dt.timedelta(days=1)
    return frozenset(off)


def _overlap(a_start: dt.time, a_end: dt.time, b_start: dt.time, b_end: dt.time) -> bool:
    return a_start < b_end and b_start < a_end


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


async def _booked(session: AsyncSession, bookings: Sequence[_Booking], *, exclude_id: int | None) -> list[Lesson]:
    """Lessons on the bookings' dates that share a class, a teacher or a room with any of them."""
    if not bookings:
        return []
    dates = {b.date for b in bookings}
    classes = {b.class_id for b in bookings}
    teachers = {b.teacher_id for b in bookings}
    rooms = {b.room for b in bookings if b.room}
    school_id = bookings[0].school_id
    stmt = select(Lesson).where(
        Lesson.date.in_(dates),
        or_(
            Lesson.class_id.in_(classes),
            Lesson.teacher_id.in_(teachers),
            Lesson.substitute_teacher_id.in_(teachers),
            and_(Lesson.school_id == school_id, Lesson.room.in_(rooms)) if rooms else false(),
        ),
    )
    if exclude_id is not None:
        stmt = stmt.where(Lesson.id != exclude_id)
    return list((await session.scalars(stmt.order_by(Lesson.date, Lesson.start_time))).all())


async def _labels(session: AsyncSession, lessons: Sequence[Lesson]) -> dict[int, str]:
    """How a message names each lesson: subject, class, date and time, and its ID."""
    if not lessons:
        return {}
    subjects = dict(
        (
            await session.execute(
                select(Subject.id, Subject.name).where(Subject.id.in_({x.subject_id for x in lessons}))
            )
        ).all()
    )
    classes = {
        row.id: row.name
        for row in await session.scalars(select(SchoolClass).where(SchoolClass.id.in_({x.class_id for x in lessons})))
    }
    return {
        x.id: (
            f"«{subjects.get(x.subject_id, '?')}», {classes.get(x.class_id, '?')}, "
            f"{x.date:%d.%m.%Y} {_hhmm(x.start_time)}–{_hhmm(x.end_time)} "
            f"(id {diary_access.global_id('Lesson', x.id)})"
        )
        for x in lessons
    }


def _conflicts(
    booking: _Booking,
    existing: Iterable[Lesson],
    labels: dict[int, str],
    *,
    teacher_field: str,
    slot_only: bool = False,
) -> list[tuple[FieldError, Lesson]]:
    found: list[tuple[FieldError, Lesson]] = []
    for other in existing:
        if other.date != booking.date:
            continue
        label = labels.get(other.id) or "(новый урок)"
        same_slot = other.class_id == booking.class_id and other.start_time == booking.start_time
        if other.status != LessonStatus.SCHEDULED or slot_only:
            if same_slot:
                found.append(
                    (
                        FieldError(
                            ErrorCode.CONFLICT,
                            f"В это время у класса есть отменённый урок {label}: восстановите или перенесите его"
                            if other.status != LessonStatus.SCHEDULED
                            else f"В это время у класса начинается урок {label}",
                            ("startTime",),
                        ),
                        other,
                    )
                )
            continue
        if not _overlap(other.start_time, other.end_time, booking.start_time, booking.end_time):
            continue
        theirs = _Booking.of(other)
        if (
            theirs.class_id == booking.class_id
            and theirs.subject_id == booking.subject_id
            and (theirs.start_time, theirs.end_time) == (booking.start_time, booking.end_time)
        ):
            found.append((FieldError(ErrorCode.DUPLICATE, f"Такой урок уже есть: {label}", ()), other))
            continue
        if theirs.class_id == booking.class_id:
            found.append(
                (FieldError(ErrorCode.CONFLICT, f"У класса в это время уже урок {label}", ("classId",)), other)
            )
        if theirs.teacher_id == booking.teacher_id:
            found.append(
                (FieldError(ErrorCode.CONFLICT, f"Учитель в это время ведёт урок {label}", (teacher_field,)), other)
            )
        if booking.room and theirs.room == booking.room and theirs.school_id == booking.school_id:
            found.append(
                (
                    FieldError(
                        ErrorCode.CONFLICT, f"Кабинет {booking.room} в это время занят: урок {label}", ("room",)
                    ),
                    other,
                )
            )
    return found


async def _refuse_conflicts(
    session: AsyncSession, booking: _Booking, *, exclude_id: int | None, teacher_field: str, slot_only: bool = False
) -> None:
    existing = await _booked(session, [booking], exclude_id=exclude_id)
    found = _conflicts(
        booking, existing, await _labels(session, existing), teacher_field=teacher_field, slot_only=slot_only
    )
    if found:
        raise DomainError(errors=[problem for problem, _ in found])


def _duplicate_slot() -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, "У класса уже есть урок, начинающийся в это время", field="startTime")


async def _insert(session: AsyncSession, lessons: Sequence[Lesson]) -> None:
    """Insert; the unique (class, date, start) index is the last word on duplicates."""
    if not lessons:
        return
    try:
        async with session.begin_nested():
            session.add_all(lessons)
            await session.flush()
    except IntegrityError:
        raise _duplicate_slot() from None


def _snapshot(lesson: Lesson) -> dict[str, object]:
    return {
        "class_id": lesson.class_id,
        "subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "substitute_teacher_id": lesson.substitute_teacher_id,
        "date": lesson.date.isoformat(),
        "start_time": _hhmm(lesson.start_time),
        "end_time": _hhmm(lesson.end_time),
        "lesson_number": lesson.lesson_number,
        "room": lesson.room,
        "topic": lesson.topic,
        "status": str(lesson.status),
    }
