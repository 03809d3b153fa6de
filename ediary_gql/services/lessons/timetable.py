"""Weekly timetable templates, and the lessons generated from one over a period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from ediary_gql.errors import ErrorCode, ErrorCollector, not_found
from ediary_gql.services import audit, diary_facts, record_notices
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.lessons.bookings import Booking, booked, conflicts, hhmm, insert_many, lesson_labels, overlap
from ediary_gql.services.lessons.checks import (
    NOT_ASSIGNED,
    assigned_pairs,
    check_fields,
    clean,
    days_off,
    require_may_write_subjects,
    subjects_of_school,
)
from ediary_gql.services.lessons.data import GenerationResult, SkippedLesson, TemplateData

NAME_MAX = 200
GENERATE_MAX_DAYS = 366


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

    subjects = await subjects_of_school(session, school_class.school_id, {s.subject_id for s in data.slots})
    staff = await diary_facts.staff_of(
        session, school_id=school_class.school_id, user_ids={s.teacher_id for s in data.slots}
    )
    await require_may_write_subjects(session, actor=actor, school_class=school_class, subject_ids=subjects)
    # a slot's teacher grades and marks its lessons: only one assigned to the class × subject
    assigned = await assigned_pairs(session, school_class.id, staff)
    for i, slot in enumerate(data.slots):
        path = ("slots", str(i))
        if not 1 <= slot.weekday <= 7:
            errors.add((*path, "weekday"), ErrorCode.INVALID, "День недели — число от 1 (понедельник) до 7")
        if slot.subject_id not in subjects:
            errors.add((*path, "subjectId"), ErrorCode.NOT_FOUND, "Предмет не найден в школе")
        if slot.teacher_id not in staff:
            errors.add((*path, "teacherId"), ErrorCode.NOT_FOUND, "Учитель не найден среди сотрудников школы")
        elif slot.subject_id in subjects and (slot.teacher_id, slot.subject_id) not in assigned:
            errors.add((*path, "teacherId"), ErrorCode.INVALID, NOT_ASSIGNED)
        check_fields(
            errors,
            start_time=slot.start_time,
            end_time=slot.end_time,
            lesson_number=slot.lesson_number,
            room=clean(slot.room),
            topic=None,
            prefix=path,
        )
        for j, other in enumerate(data.slots[:i]):
            if other.weekday == slot.weekday and overlap(
                other.start_time, other.end_time, slot.start_time, slot.end_time
            ):
                errors.add(
                    (*path, "startTime"),
                    ErrorCode.CONFLICT,
                    f"Урок пересекается с уроком №{j + 1} этого расписания "
                    f"({hhmm(other.start_time)}–{hhmm(other.end_time)})",
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
            room=clean(s.room),
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
    row = (
        await session.execute(
            select(TimetableTemplate, SchoolClass, Period)
            .join(SchoolClass, SchoolClass.id == TimetableTemplate.class_id)
            .join(Period, Period.id == TimetableTemplate.period_id)
            .where(TimetableTemplate.id == template_id)
        )
    ).first()
    if row is None:
        raise not_found("templateId", "Шаблон расписания не найден")
    template, school_class, period = row
    slots = [slot for _, slot in await template_slots(session, [template.id])]
    await require_may_write_subjects(
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

    off = await days_off(session, school_class.school_id, first, last)
    by_weekday: dict[int, list[TimetableSlot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    planned: list[Lesson] = []
    day = first
    while day <= last:
        if day not in off:
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
    await diary_facts.lock_school(session, template.school_id)
    existing = await booked(session, [Booking.of(lesson) for lesson in planned], exclude_id=None)
    labels = await lesson_labels(session, existing)
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
        found = conflicts(Booking.of(lesson), taken, labels, teacher_field="teacherId")
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
    result.created = await insert_many(session, result.created)
    record_notices.lessons_added(session, actor_user_id=actor.user_id, lessons=result.created)
    change_feed.record(
        session,
        school_id=template.school_id,
        type=ChangeType.LESSON,
        ids=[lesson.id for lesson in result.created],
        action=ChangeAction.CREATED,
    )
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
