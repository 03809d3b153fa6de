"""Benchmark data: N schools of ~1,000 children each, fast.

A school has 40 classes × 25 children (levels 1–11), ~60 teachers with
teaching assignments, a timetable of 5 days × 6 lessons with no double
bookings, the whole 2026/2027 year of lessons (holidays skipped), about two
marks per child per subject per month up to "today" (2026-11-27) and
attendance for every lesson of the last four weeks before it.

Rows go in by Core bulk INSERTs in chunks; ids are read back with one SELECT
per table; each school is one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from rich.console import Console
from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.analyze import analyze_all
from ediary_gql.db.base import Base
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import (
    AttendanceStatus,
    GradeAction,
    LaunchMode,
    LessonStatus,
    SchoolStatus,
    SchoolType,
    Sex,
    StaffRole,
)
from ediary_gql.db.models.geo import normalize_name
from ediary_gql.db.models.grades import Grade, GradeRevision
from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.demo.bulk import Row, insert_ids, insert_one, insert_rows, table_of
from ediary_gql.demo.common import (
    SchoolFrame,
    ability,
    create_school_frame,
    draw_mark,
    ensure_moscow,
    grade_row,
    load_calendar,
    user_row,
)
from ediary_gql.demo.curriculum import HOURS, SUBJECT_BY_CODE, homework_for, lesson_topic, specialty
from ediary_gql.demo.demo_school import DEMO_PASSWORD
from ediary_gql.demo.ids import company_inn, numbered_birth_certificate, okpo, snils
from ediary_gql.demo.names import NameMaker, Person
from ediary_gql.demo.school_calendar import (
    QUARTERS,
    TODAY,
    YEAR_END,
    YEAR_START,
    SchoolCalendar,
    at_moscow,
)
from ediary_gql.demo.timetable import BELLS, Demand, Placement, build_timetable
from ediary_gql.services.reports.templates import add_default_report_templates

LETTERS = "АБВГ"
INN_PREFIX = "7799"  # scale schools: 7799 + a 5-digit number + the check digit
TEACHER_LOAD = 22  # hours a week a specialist is planned for (at most 30 fit)
ATTENDANCE_DAYS = 28  # attendance for the lessons of the last four weeks up to TODAY
HOMEWORK_AHEAD = dt.timedelta(days=14)
GRADES_PER_MONTH = 2


def class_layout(count: int = 40) -> list[tuple[str, int, str]]:
    """(name, level, letter): four parallel classes in levels 1–9 and two in 10–11.

    A smaller `count` takes the first letter of every level first, so even a few
    classes span primary and secondary school.
    """
    full = [(level, letter) for level in range(1, 12) for letter in (LETTERS if level <= 9 else LETTERS[:2])]
    ordered = sorted(full, key=lambda c: (LETTERS.index(c[1]), c[0]))
    chosen = sorted(ordered[:count], key=lambda c: (c[0], c[1]))
    return [(f"{level}{letter}", level, letter) for level, letter in chosen]


@dataclass(slots=True)
class Staffing:
    """Who teaches what: teacher keys, their specialty, rooms, and (class, subject) → teacher."""

    teachers: list[str] = field(default_factory=list)
    specialty: dict[str, str] = field(default_factory=dict)
    room: dict[str, str] = field(default_factory=dict)
    plan: dict[tuple[str, str], str] = field(default_factory=dict)
    homeroom: dict[str, str] = field(default_factory=dict)


def plan_staffing(classes: list[tuple[str, int, str]]) -> Staffing:
    """One teacher per primary class for its core subjects; specialists share the rest,
    each class's block of a specialty going to the least loaded one (about 22 hours each)."""
    staff = Staffing()
    blocks: dict[str, list[tuple[str, list[str], int]]] = defaultdict(list)  # specialty → (class, subjects, hours)
    for cls, level, _letter in classes:
        by_specialty: dict[str, list[str]] = defaultdict(list)
        for subject in HOURS[level]:
            by_specialty[specialty(subject, level)].append(subject)
        for spec, subjects in by_specialty.items():
            blocks[spec].append((cls, subjects, sum(HOURS[level][s] for s in subjects)))
    rooms = iter(range(201, 400))
    gyms = iter(range(1, 20))
    for spec in sorted(blocks):
        spec_blocks = blocks[spec]
        if spec == "PRIMARY":
            for n, (cls, subjects, _hours) in enumerate(spec_blocks, start=1):
                key = f"PRIMARY-{n:02d}"
                staff.teachers.append(key)
                staff.specialty[key] = spec
                staff.room[key] = f"Каб. {100 + n}"
                staff.homeroom[cls] = key
                for subject in subjects:
                    staff.plan[cls, subject] = key
            continue
        total = sum(h for _, _, h in spec_blocks)
        keys = [f"{spec}-{n:02d}" for n in range(1, max(1, math.ceil(total / TEACHER_LOAD)) + 1)]
        load = dict.fromkeys(keys, 0)
        for key in keys:
            staff.teachers.append(key)
            staff.specialty[key] = spec
            staff.room[key] = f"Спортзал {next(gyms)}" if spec == "PE" else f"Каб. {next(rooms)}"
        for cls, subjects, hours in sorted(spec_blocks, key=lambda b: (-b[2], b[0])):
            key = min(keys, key=lambda k: (load[k], k))
            load[key] += hours
            for subject in subjects:
                staff.plan[cls, subject] = key
    # Homeroom teachers of levels 5–11: the one who teaches the class most, one class each.
    taken = set(staff.homeroom.values())
    levels = {cls: level for cls, level, _ in classes}
    for cls, _level, _letter in classes:
        if cls in staff.homeroom:
            continue
        taught: dict[str, int] = defaultdict(int)
        for (c, subject), teacher in staff.plan.items():
            if c == cls:
                taught[teacher] += HOURS[levels[cls]][subject]
        free = sorted((t for t in taught if t not in taken), key=lambda t: (-taught[t], t))
        spare = [t for t in staff.teachers if t not in taken]
        if free or spare:
            staff.homeroom[cls] = (free or spare)[0]
            taken.add(staff.homeroom[cls])
    return staff


def school_timetable(classes: list[tuple[str, int, str]], staff: Staffing, seed: int) -> list[Placement]:
    levels = {cls: level for cls, level, _ in classes}
    demands = [
        Demand(cls, teacher, subject, HOURS[levels[cls]][subject])
        for (cls, subject), teacher in sorted(staff.plan.items())
    ]
    return build_timetable(demands, seed=seed)


async def seed_scale(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    schools: int,
    progress: Console | None = None,
    classes_per_school: int = 40,
    class_size: int = 25,
) -> dict[str, int]:
    """Add `schools` big schools (one transaction each); returns the rows made per table.

    `classes_per_school` (1–40) and `class_size` (1–200) shrink a school for quick tests;
    the defaults are the benchmark's 40 classes × 25 children. Progress goes to `progress`.
    """
    if not 1 <= classes_per_school <= len(class_layout()):
        raise ValueError(f"classes_per_school must be 1–{len(class_layout())}")
    if not 1 <= class_size <= 200:
        raise ValueError("class_size must be 1–200")
    counts: dict[str, int] = defaultdict(int)
    if schools <= 0:
        return dict(counts)
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    classes = class_layout(classes_per_school)
    staff = plan_staffing(classes)
    async with session_factory() as session, session.begin():
        await ensure_moscow(session)
    started = time.perf_counter()
    for k in range(schools):
        school_started = time.perf_counter()
        async with session_factory() as session, session.begin():
            number = await _free_school_number(session)
            calendar = await load_calendar(session)
            builder = _ScaleSchool(session, number, password_hash, calendar, classes, staff, class_size)
            made = await builder.run(progress)
        for table, n in made.items():
            counts[table] += n
        if progress is not None:
            progress.print(
                f"[green]✓[/green] school {k + 1}/{schools} «{builder.short_name}»: "
                f"{sum(made.values()):,} rows in {time.perf_counter() - school_started:.1f} s"
            )
    await analyze_all(session_factory)  # a bulk load: statistics before the first request (db/analyze.py)
    if progress is not None:
        progress.print(
            f"Scale data: {schools} school(s), {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s"
        )
    return dict(counts)


async def _free_school_number(session: AsyncSession) -> int:
    used = set((await session.scalars(select(School.inn).where(School.inn.like(f"{INN_PREFIX}%")))).all())
    n = 1
    while company_inn(f"{INN_PREFIX}{n:05d}") in used:
        n += 1
    return n


class _ScaleSchool:
    def __init__(
        self,
        session: AsyncSession,
        number: int,
        password_hash: str,
        calendar: SchoolCalendar,
        classes: list[tuple[str, int, str]],
        staff: Staffing,
        class_size: int,
    ) -> None:
        self.session = session
        self.number = number
        self.password_hash = password_hash
        self.calendar = calendar
        self.classes = classes
        self.levels = {cls: level for cls, level, _ in classes}
        self.staff = staff
        self.class_size = class_size
        self.seed = 7_000 + number
        self.rng = random.Random(self.seed)  # noqa: S311 - reproducible benchmark data
        self.names = NameMaker(self.seed)
        self.inn = company_inn(f"{INN_PREFIX}{number:05d}")
        self.short_name = f"ГБОУ Школа № {2000 + number}"
        self.counts: dict[str, int] = defaultdict(int)
        self.frame: SchoolFrame
        self.school_id = 0
        self.admin_id = 0
        self.teacher_ids: dict[str, int] = {}
        self.class_ids: dict[str, int] = {}
        self.now = dt.datetime.now(dt.UTC)
        self.phase_started = time.perf_counter()

    def _note(self, progress: Console | None, what: str) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - self.phase_started
            progress.print(f"  [dim]{self.short_name}: {what} ({elapsed:.1f} s)[/dim]")
        self.phase_started = time.perf_counter()

    async def _rows(self, model: type[Base], rows: list[Row]) -> None:
        self.counts[table_of(model).name] += await insert_rows(self.session, model, rows)

    async def _ids(self, model: type[Base], rows: list[Row]) -> list[int]:
        ids = await insert_ids(self.session, model, rows)
        self.counts[table_of(model).name] += len(ids)
        return ids

    async def run(self, progress: Console | None) -> dict[str, int]:
        settlement_id = await ensure_moscow(self.session)
        await self._school_and_staff(settlement_id)
        self.frame = await create_school_frame(self.session, school_id=self.school_id)
        for table, n in (("academic_years", 1), ("periods", 4), ("holidays", 3)):
            self.counts[table] += n
        self.counts["subjects"] += len(self.frame.subject_ids)
        self.counts["control_types"] += len(self.frame.control_types)
        await self._classes()
        kids = await self._children()
        self._note(progress, f"{len(kids):,} children and their parents")
        placements = school_timetable(self.classes, self.staff, self.seed)
        templates = await self._templates(placements)
        lessons = await self._lessons(placements, templates)
        self._note(progress, f"{len(lessons):,} lessons")
        away = await self._attendance(kids, lessons)
        self._note(progress, f"{self.counts['attendances']:,} attendance marks")
        await self._grades(kids, lessons, away)
        self._note(progress, f"{self.counts['grades']:,} grades")
        await self._grade_history()
        self._note(progress, f"{self.counts['grade_revisions']:,} grade history rows")
        await self._homework(lessons)
        self._note(progress, f"{self.counts['homeworks']:,} homework")
        return dict(self.counts)

    # -- school, staff, classes, children -----------------------------------------------

    async def _school_and_staff(self, settlement_id: int) -> None:
        domain = f"{self.inn}.scale.ediary.ru"
        admin = self.names.adult(Sex.FEMALE)
        teacher_people: list[Person] = [
            self.names.adult(Sex.FEMALE if self.rng.random() < 0.8 else Sex.MALE) for _ in self.staff.teachers
        ]
        rows = [user_row(admin, password_hash=self.password_hash, email=f"admin@{domain}")]
        rows += [
            user_row(p, password_hash=self.password_hash, email=f"{key.lower()}@{domain}")
            for key, p in zip(self.staff.teachers, teacher_people, strict=True)
        ]
        ids = await self._ids(User, rows)
        self.admin_id = ids[0]
        self.teacher_ids = dict(zip(self.staff.teachers, ids[1:], strict=True))
        full_name = (
            f"Государственное бюджетное общеобразовательное учреждение города Москвы «Школа № {2000 + self.number}»"
        )
        self.school_id = await insert_one(
            self.session,
            School,
            {
                "full_name": full_name,
                "short_name": self.short_name,
                "name_normalized": normalize_name(f"{full_name} {self.short_name}"),
                "type": SchoolType.SCHOOL,
                "inn": self.inn,
                "okpo": okpo(f"6{self.number:06d}"),
                "kpp": f"{self.inn[:4]}01001",
                "address": f"г. Москва, {self.names.fake.street_name()}, д. {self.rng.randint(1, 120)}",
                "settlement_id": settlement_id,
                "phone": f"+7495{2000000 + self.number:07d}",
                "email": f"school@{domain}",
                "website": None,
                "timezone": "Europe/Moscow",
                "status": SchoolStatus.ACTIVE,
                "launch_mode": LaunchMode.OPEN,
                "diary_uid": f"ED-77-SCALE-{self.number:05d}",
                "registered_by_id": self.admin_id,
                "rejection_reason": None,
                "reviewed_by_id": None,
                "reviewed_at": self.now,
            },
        )
        self.counts["schools"] += 1
        members = [
            {"user_id": self.admin_id, "school_id": self.school_id, "role": StaffRole.SCHOOL_ADMIN, "active": True}
        ]
        members += [
            {"user_id": uid, "school_id": self.school_id, "role": StaffRole.TEACHER, "active": True}
            for uid in self.teacher_ids.values()
        ]
        await self._rows(StaffMembership, members)
        await add_default_report_templates(self.session, school_id=self.school_id)  # as a registered school has

    async def _classes(self) -> None:
        rows = [
            {
                "school_id": self.school_id,
                "academic_year_id": self.frame.year_id,
                "level": level,
                "letter": letter,
                "homeroom_teacher_id": self.teacher_ids[self.staff.homeroom[cls]]
                if cls in self.staff.homeroom
                else None,
                "external_id": f"CLS-{cls}",
            }
            for cls, level, letter in self.classes
        ]
        ids = await self._ids(SchoolClass, rows)
        self.class_ids = {cls: cid for (cls, _, _), cid in zip(self.classes, ids, strict=True)}
        await self._rows(
            TeachingAssignment,
            [
                {
                    "teacher_id": self.teacher_ids[teacher],
                    "class_id": self.class_ids[cls],
                    "subject_id": self.frame.subject_ids[subject],
                }
                for (cls, subject), teacher in sorted(self.staff.plan.items())
            ],
        )

    async def _children(self) -> list[_ScaleKid]:
        """Children with their parents' accounts, enrolments and guardianships; ids read back by one SELECT each."""
        kids: list[_ScaleKid] = []
        parent_rows: list[Row] = []
        child_rows: list[Row] = []
        domain = f"{self.inn}.scale.ediary.ru"
        for cls, level, _letter in self.classes:
            for _ in range(self.class_size):
                n = len(kids)
                family = self.names.family()
                sex = self.names.sex()
                person = self.names.child(sex, family)
                birth = self.names.birth_date(level, YEAR_START)
                parent = self.names.adult(Sex.FEMALE if self.rng.random() < 0.75 else Sex.MALE, family)
                parent_rows.append(user_row(parent, password_hash=self.password_hash, email=f"parent{n:04d}@{domain}"))
                series, cert = numbered_birth_certificate(self.number, n)
                external_id = f"STU-{n:05d}"
                child_rows.append(
                    {
                        "last_name": person.last_name,
                        "first_name": person.first_name,
                        "middle_name": person.middle_name,
                        "birth_date": birth,
                        "sex": sex,
                        "snils": snils(100_000_000 + self.number * 10_000 + n),
                        "birth_cert_series": series,
                        "birth_cert_number": cert,
                        "birth_cert_issued_on": birth + dt.timedelta(days=14),
                        "citizenship": "643",
                        "user_id": None,
                        "school_id": self.school_id,
                        "external_id": external_id,
                    }
                )
                kids.append(_ScaleKid(cls, ability(self.rng), external_id, f"parent{n:04d}@{domain}"))
        await self._rows(User, parent_rows)
        await self._rows(Child, child_rows)
        parents = select(User.email, User.id).where(User.email.like(f"parent%@{domain}"))
        parent_ids = {str(email): int(uid) for email, uid in (await self.session.execute(parents)).all()}
        children = select(Child.external_id, Child.id).where(Child.school_id == self.school_id)
        child_ids = {str(ext): int(cid) for ext, cid in (await self.session.execute(children)).all()}
        for kid in kids:
            kid.child_id = child_ids[kid.external_id]
            kid.parent_id = parent_ids[kid.parent_email]
        await self._rows(
            Enrollment,
            [
                {
                    "child_id": k.child_id,
                    "class_id": self.class_ids[k.class_key],
                    "starts_on": YEAR_START,
                    "ends_on": None,
                }
                for k in kids
            ],
        )
        await self._rows(
            Guardianship, [{"parent_id": k.parent_id, "child_id": k.child_id, "application_id": None} for k in kids]
        )
        return kids

    # -- timetable and lessons -----------------------------------------------------------------

    async def _templates(self, placements: list[Placement]) -> dict[tuple[str, int], int]:
        keys = [(cls, q.number) for cls, _, _ in self.classes for q in QUARTERS]
        ids = await self._ids(
            TimetableTemplate,
            [
                {
                    "school_id": self.school_id,
                    "class_id": self.class_ids[cls],
                    "period_id": self.frame.period_ids[quarter],
                    "name": f"Расписание {cls}, {quarter} четверть",
                    "created_by_id": self.admin_id,
                }
                for cls, quarter in keys
            ],
        )
        templates = dict(zip(keys, ids, strict=True))
        await self._rows(
            TimetableSlot,
            [
                {
                    "template_id": templates[p.class_key, quarter],
                    "weekday": p.weekday,
                    "lesson_number": p.number,
                    "start_time": p.start,
                    "end_time": p.end,
                    "subject_id": self.frame.subject_ids[p.subject],
                    "teacher_id": self.teacher_ids[p.teacher_key],
                    "room": self.staff.room[p.teacher_key],
                }
                for quarter in range(1, 5)
                for p in placements
            ],
        )
        return templates

    async def _lessons(self, placements: list[Placement], templates: dict[tuple[str, int], int]) -> list[_ScaleLesson]:
        by_weekday: dict[int, list[Placement]] = defaultdict(list)
        for p in sorted(placements, key=lambda p: (p.class_key, p.number)):
            by_weekday[p.weekday].append(p)
        ordinals: dict[tuple[str, str], int] = defaultdict(int)
        lessons: list[_ScaleLesson] = []
        rows: list[Row] = []
        for day in self.calendar.school_days(YEAR_START, YEAR_END):
            quarter = next(q.number for q in QUARTERS if day in q)
            for p in by_weekday[day.isoweekday()]:
                key = (p.class_key, p.subject)
                ordinal = ordinals[key]
                ordinals[key] = ordinal + 1
                topic, _is_test = lesson_topic(p.subject, ordinal, HOURS[self.levels[p.class_key]][p.subject])
                lessons.append(_ScaleLesson(p.class_key, p.subject, p.teacher_key, day, p.number, ordinal))
                start, end = BELLS[p.number]
                rows.append(
                    {
                        "school_id": self.school_id,
                        "class_id": self.class_ids[p.class_key],
                        "subject_id": self.frame.subject_ids[p.subject],
                        "teacher_id": self.teacher_ids[p.teacher_key],
                        "date": day,
                        "start_time": start,
                        "end_time": end,
                        "lesson_number": p.number,
                        "room": self.staff.room[p.teacher_key],
                        "topic": topic,
                        "status": LessonStatus.SCHEDULED,
                        "substitute_teacher_id": None,
                        "template_id": templates[p.class_key, quarter],
                        "external_id": None,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
        await self._rows(Lesson, rows)
        ids: dict[tuple[int, dt.date, int], int] = {}
        stmt = select(Lesson.id, Lesson.class_id, Lesson.date, Lesson.lesson_number).where(
            Lesson.school_id == self.school_id
        )
        for lid, class_id, day, number in (await self.session.execute(stmt)).all():
            ids[class_id, day, number or 0] = lid
        for les in lessons:
            les.id = ids[self.class_ids[les.class_key], les.day, les.number]
        return lessons

    # -- attendance, marks, homework -------------------------------------------------------------

    async def _attendance(self, kids: list[_ScaleKid], lessons: list[_ScaleLesson]) -> set[tuple[int, int]]:
        """Every past lesson of the last four weeks: PRESENT except about 5%. Returns (child, lesson) away."""
        since = TODAY - dt.timedelta(days=ATTENDANCE_DAYS - 1)
        recent = [les for les in lessons if since <= les.day <= TODAY]
        kids_by_class: dict[str, list[_ScaleKid]] = defaultdict(list)
        for kid in kids:
            kids_by_class[kid.class_key].append(kid)
        first_lesson: dict[tuple[str, dt.date], int] = {}
        for les in recent:
            key = (les.class_key, les.day)
            first_lesson[key] = min(first_lesson.get(key, 99), les.number)
        day_status: dict[tuple[int, dt.date], AttendanceStatus] = {}
        rng = self.rng
        for day in sorted({les.day for les in recent}):
            for kid in kids:
                r = rng.random()
                if r < 0.035:
                    day_status[kid.child_id, day] = AttendanceStatus.SICK
                elif r < 0.04:
                    day_status[kid.child_id, day] = AttendanceStatus.EXCUSED
                elif r < 0.046:
                    day_status[kid.child_id, day] = AttendanceStatus.ABSENT
                elif r < 0.076:
                    day_status[kid.child_id, day] = AttendanceStatus.LATE
        reasons = {
            AttendanceStatus.SICK: "Болезнь (справка)",
            AttendanceStatus.EXCUSED: "Семейные обстоятельства (заявление родителей)",
        }
        away: set[tuple[int, int]] = set()
        rows: list[Row] = []
        for les in recent:
            marked_by = self.teacher_ids[les.teacher]
            marked_at = at_moscow(les.day, BELLS[les.number][0]) + dt.timedelta(minutes=10)
            first = first_lesson[les.class_key, les.day] == les.number
            for kid in kids_by_class[les.class_key]:
                status = day_status.get((kid.child_id, les.day), AttendanceStatus.PRESENT)
                late: int | None = None
                if status is AttendanceStatus.LATE:
                    if first:
                        late = 5 + (kid.child_id + les.number) % 15
                    else:
                        status = AttendanceStatus.PRESENT
                elif status is not AttendanceStatus.PRESENT:
                    away.add((kid.child_id, les.id))
                rows.append(
                    {
                        "school_id": self.school_id,
                        "child_id": kid.child_id,
                        "lesson_id": les.id,
                        "status": status,
                        "minutes_late": late,
                        "reason": reasons.get(status),
                        "marked_by_id": marked_by,
                        "marked_at": marked_at,
                    }
                )
        await self._rows(Attendance, rows)
        return away

    async def _grades(self, kids: list[_ScaleKid], lessons: list[_ScaleLesson], away: set[tuple[int, int]]) -> None:
        """About two marks per child per subject per month, September to "today"; then their history rows."""
        series: dict[tuple[str, str, int], list[_ScaleLesson]] = defaultdict(list)
        for les in lessons:
            if les.day <= TODAY:
                series[les.class_key, les.subject, les.day.month].append(les)
        kids_by_class: dict[str, list[_ScaleKid]] = defaultdict(list)
        for kid in kids:
            kids_by_class[kid.class_key].append(kid)
        rng = self.rng
        rows: list[Row] = []
        for (cls, subject, _month), group in sorted(series.items(), key=lambda item: item[0]):
            sub = SUBJECT_BY_CODE[subject]
            controls = [*sub.routine, *(c for c in (sub.mid, sub.big) if c is not None)]
            weights = [3.0] * len(sub.routine) + [1.5 if c == sub.mid else 1.0 for c in controls[len(sub.routine) :]]
            for kid in kids_by_class[cls]:
                for les in rng.sample(group, min(GRADES_PER_MONTH, len(group))):
                    if (kid.child_id, les.id) in away:
                        continue
                    control = rng.choices(controls, weights)[0]
                    rows.append(
                        grade_row(
                            school_id=self.school_id,
                            child_id=kid.child_id,
                            lesson_id=les.id,
                            subject_id=self.frame.subject_ids[subject],
                            class_id=self.class_ids[cls],
                            period_id=self.frame.period_for(les.day),
                            mark=draw_mark(rng, kid.ability),
                            control=self.frame.control_types[control],
                            teacher_id=self.teacher_ids[les.teacher],
                            graded_on=les.day,
                            comment=None,
                            created_at=at_moscow(les.day, BELLS[les.number][1]),
                        )
                    )
        await self._rows(Grade, rows)

    async def _grade_history(self) -> None:
        """Every grade's history starts with its CREATED step: made by the database in one statement."""
        grades = table_of(Grade)
        revisions = insert(table_of(GradeRevision)).from_select(
            ["school_id", "grade_id", "action", "new_value", "changed_by_id", "changed_at"],
            select(
                grades.c.school_id,
                grades.c.id,
                literal(GradeAction.CREATED.value),
                grades.c.value,
                grades.c.teacher_id,
                grades.c.created_at,
            ).where(grades.c.class_id.in_(list(self.class_ids.values()))),
        )
        result = await self.session.execute(revisions)
        self.counts["grade_revisions"] += int(getattr(result, "rowcount", 0) or 0)

    async def _homework(self, lessons: list[_ScaleLesson]) -> None:
        """Homework for the lessons of the attendance window and two weeks ahead, due at the next lesson."""
        since = TODAY - dt.timedelta(days=ATTENDANCE_DAYS - 1)
        series: dict[tuple[str, str], list[_ScaleLesson]] = defaultdict(list)
        for les in lessons:
            series[les.class_key, les.subject].append(les)
        rows: list[Row] = []
        for (cls, subject), group in series.items():
            for n, les in enumerate(group):
                if not since <= les.day <= TODAY + HOMEWORK_AHEAD or self.rng.random() < 0.2:
                    continue
                task = homework_for(subject, les.ordinal, self.rng)
                if task is None:
                    continue
                due = group[n + 1].day if n + 1 < len(group) else les.day + dt.timedelta(days=7)
                rows.append(
                    {
                        "school_id": self.school_id,
                        "lesson_id": les.id,
                        "class_id": self.class_ids[cls],
                        "subject_id": self.frame.subject_ids[subject],
                        "text": task[0],
                        "published_on": les.day,
                        "due_on": due,
                        "expected_minutes": task[1],
                        "created_by_id": self.teacher_ids[les.teacher],
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
        await self._rows(Homework, rows)


@dataclass(slots=True)
class _ScaleKid:
    class_key: str
    ability: float
    external_id: str
    parent_email: str
    child_id: int = 0
    parent_id: int = 0


@dataclass(slots=True)
class _ScaleLesson:
    class_key: str
    subject: str
    teacher: str
    day: dt.date
    number: int
    ordinal: int
    id: int = 0
