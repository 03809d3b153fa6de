"""The timetable file: weekly slots of each class and period, one template per class
and period, no class or teacher booked twice at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.lessons import TimetableSlot, TimetableTemplate
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode
from ediary_gql.services.roster_import.cells import int_value, optional_text, sourced_ids, sourced_ids_quiet, time_value
from ediary_gql.services.roster_import.lookup import assign, by_external_id, by_ids, chunks, roster_links
from ediary_gql.services.roster_import.run import Row, Run
from ediary_gql.text import is_digits

WEEKDAYS = {"пн": 1, "вт": 2, "ср": 3, "чт": 4, "пт": 5, "сб": 6, "вс": 7}


async def import_timetable(
    session: AsyncSession,
    run: Run,
    classes: dict[str, SchoolClass],
    subjects: dict[str, Subject],
    teachers: dict[str, User],
) -> None:
    rows = sourced_ids(run, "timetable")
    if not rows:
        return
    tally = run.tally("timetable")
    missing_subjects = {r.get("subjectSourcedId") for r in rows.values()} - subjects.keys()
    subjects = {**subjects, **await by_external_id(session, Subject, run.school_id, missing_subjects)}
    teacher_ids = {u.id for u in teachers.values() if u.id is not None}
    active: set[int] = set()
    for chunk in chunks(teacher_ids):
        active.update(
            await session.scalars(
                select(StaffMembership.user_id).where(
                    StaffMembership.school_id == run.school_id,
                    StaffMembership.role == StaffRole.TEACHER,
                    StaffMembership.active.is_(True),
                    StaffMembership.user_id.in_(chunk),
                )
            )
        )
    imported_teachers = set(sourced_ids_quiet(run, "teachers"))
    year_ids = {c.academic_year_id for c in classes.values()}
    periods: dict[tuple[int, int], Period] = {}
    for chunk in chunks(year_ids):
        for p in await session.scalars(select(Period).where(Period.academic_year_id.in_(chunk))):
            periods[(p.academic_year_id, p.number)] = p
    checked: dict[str, tuple[Row, SchoolClass, Period, dict[str, Any]]] = {}
    seen: dict[tuple[int, int, int, dt.time], int] = {}
    teacher_busy: dict[tuple[int, int, int], list[tuple[dt.time, dt.time, int]]] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        klass = classes.get(row.get("classSourcedId"))
        if klass is None:
            run.missing(
                row, "classSourcedId", "classes", [row.get("classSourcedId")], "Класс с таким sourcedId не найден"
            )
        number = int_value(run, row, "period", 1, 4)
        period = periods.get((klass.academic_year_id, number)) if klass is not None and number is not None else None
        if klass is not None and number is not None and period is None:
            run.bad(row, "period", ErrorCode.NOT_FOUND, "В учебном году класса нет такого периода")
        weekday_text = row.get("weekday").lower()[:2]
        weekday = WEEKDAYS.get(weekday_text) or (int(weekday_text) if is_digits(weekday_text) else None)
        if weekday is None or not 1 <= weekday <= 7:
            run.bad(row, "weekday", ErrorCode.INVALID, "День недели: 1–7 или Пн…Вс")
        lesson_number = int_value(run, row, "lessonNumber", 0, 20)
        start = time_value(run, row, "start")
        end = time_value(run, row, "end")
        if start is not None and end is not None and start >= end:
            run.bad(row, "end", ErrorCode.INVALID, "Урок должен заканчиваться позже, чем начинается")
        subject = subjects.get(row.get("subjectSourcedId"))
        if subject is None:
            run.missing(
                row,
                "subjectSourcedId",
                "subjects",
                [row.get("subjectSourcedId")],
                "Предмет с таким sourcedId не найден",
            )
        teacher_sid = row.get("teacherSourcedId")
        teacher = teachers.get(teacher_sid)
        if teacher is None:
            run.missing(row, "teacherSourcedId", "teachers", [teacher_sid], "Учитель с таким sourcedId не найден")
        elif teacher_sid not in imported_teachers and teacher.id not in active:
            run.bad(row, "teacherSourcedId", ErrorCode.INVALID, "Это не действующий учитель школы")
        room = optional_text(run, row, "room", 32)
        if len(run.problems) != bad_before or klass is None or period is None or start is None or end is None:
            continue
        if weekday is None or lesson_number is None or subject is None or teacher is None:
            continue
        key = (id(klass), period.id, weekday, start)
        if key in seen:
            run.bad(row, "start", ErrorCode.DUPLICATE, f"В это время у класса уже урок (строка {seen[key]})")
            continue
        seen[key] = row.line
        busy = (id(teacher), period.id, weekday)
        clash = next((line for t0, t1, line in teacher_busy.get(busy, []) if start < t1 and t0 < end), None)
        if clash is not None:
            run.bad(row, "teacherSourcedId", ErrorCode.CONFLICT, f"Учитель в это время ведёт урок в строке {clash}")
            continue
        teacher_busy.setdefault(busy, []).append((start, end, row.line))
        values: dict[str, Any] = {
            "weekday": weekday,
            "lesson_number": lesson_number,
            "start_time": start,
            "end_time": end,
            "room": room,
            "subject": subject,
            "teacher": teacher,
        }
        checked[sid] = (row, klass, period, values)
    if not checked:
        return
    await session.flush()
    links = await roster_links(session, run.school_id, "TIMETABLE_SLOT", checked)
    slots = await by_ids(session, TimetableSlot, (link.target_id for link in links.values()))
    pairs = {(klass.id, period.id) for _, klass, period, _ in checked.values()}
    templates: dict[tuple[int, int], TimetableTemplate] = {}
    for chunk in chunks(pairs):
        for t in await session.scalars(
            select(TimetableTemplate)
            .where(tuple_(TimetableTemplate.class_id, TimetableTemplate.period_id).in_(chunk))
            .order_by(TimetableTemplate.id)
        ):
            templates.setdefault((t.class_id, t.period_id), t)
    for class_id, period_id in sorted(pairs - templates.keys()):
        klass = next(k for _, k, p, _ in checked.values() if k.id == class_id and p.id == period_id)
        period = next(p for _, k, p, _ in checked.values() if p.id == period_id)
        template = TimetableTemplate(
            school_id=run.school_id,
            class_id=class_id,
            period_id=period_id,
            name=f"{klass.name}, {period.name} (импорт)",
            created_by_id=run.actor.user_id,
        )
        session.add(template)
        templates[(class_id, period_id)] = template
    await session.flush()
    # Slots of these templates, to find a time taken by a slot of another sourcedId.
    taken: dict[tuple[int, int, dt.time], TimetableSlot] = {}
    template_ids = [t.id for t in templates.values()]
    for chunk in chunks(template_ids):
        for s in await session.scalars(select(TimetableSlot).where(TimetableSlot.template_id.in_(chunk))):
            taken[(s.template_id, s.weekday, s.start_time)] = s
    new_slots: dict[str, TimetableSlot] = {}
    for sid, (row, klass, period, values) in checked.items():
        template = templates[(klass.id, period.id)]
        link = links.get(sid)
        slot = slots.get(link.target_id) if link is not None else None
        holder = taken.get((template.id, values["weekday"], values["start_time"]))
        if holder is not None and holder is not slot:
            run.bad(row, "start", ErrorCode.CONFLICT, "В это время у класса уже есть урок другого sourcedId")
            continue
        fields = {
            "template_id": template.id,
            "weekday": values["weekday"],
            "lesson_number": values["lesson_number"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "subject_id": values["subject"].id,
            "teacher_id": values["teacher"].id,
            "room": values["room"],
        }
        if slot is None:
            slot = TimetableSlot(**fields)
            session.add(slot)
            new_slots[sid] = slot
            tally.created += 1
        elif assign(slot, fields):
            tally.updated += 1
        else:
            tally.unchanged += 1
    await session.flush()
    for sid, slot in new_slots.items():
        link = links.get(sid)
        if link is None:
            session.add(RosterLink(school_id=run.school_id, kind="TIMETABLE_SLOT", external_id=sid, target_id=slot.id))
        else:
            link.target_id = slot.id
