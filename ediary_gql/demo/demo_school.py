"""The demo school: a believable «ГБОУ Школа № 1535» in Moscow with logins for every role.

Four classes (5А, 5Б, 6А, 7А) of 25 children, their parents, ten teachers,
a timetable with no double bookings, six weeks of the second quarter around
"today" (2026-11-27) with topics and homework, and marks, attendance,
announcements, applications, a conversation and notifications for the past
part. The same data every time: Faker and `random` are seeded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.analyze import analyze_all
from ediary_gql.db.models.applications import Application, ApplicationEvent, ApplicationNumberCounter
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import (
    AnnouncementAudience,
    AnnouncementKind,
    ApplicationAction,
    ApplicationStatus,
    AttendanceStatus,
    GradeAction,
    LaunchMode,
    LessonStatus,
    NotificationKind,
    SchoolStatus,
    SchoolType,
    Sex,
    StaffRole,
)
from ediary_gql.db.models.geo import normalize_name
from ediary_gql.db.models.grades import Grade, GradeRevision
from ediary_gql.db.models.homework import Homework, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson, TimetableSlot, TimetableTemplate
from ediary_gql.db.models.messages import Announcement, AnnouncementClass, Message, Thread, ThreadParticipant
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.demo.bulk import Row, insert_ids, insert_one, insert_rows
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
from ediary_gql.demo.curriculum import CONTROL_TYPES, HOURS, SUBJECT_BY_CODE, homework_for, lesson_topic
from ediary_gql.demo.ids import birth_certificate, company_inn, okpo, snils
from ediary_gql.demo.names import Family, NameMaker, Person
from ediary_gql.demo.school_calendar import (
    DEMO_FROM,
    DEMO_TO,
    MOSCOW,
    QUARTERS,
    TODAY,
    YEAR_START,
    SchoolCalendar,
    at_moscow,
)
from ediary_gql.demo.timetable import BELLS, Demand, Placement, build_timetable
from ediary_gql.services import public_ids
from ediary_gql.services.reports.templates import add_default_report_templates

DEMO_PASSWORD: str = "demo12345"

DEMO_SEED = 1535
DEMO_SCHOOL_INN = company_inn("770415350")
DEMO_SCHOOL_OKPO = okpo("4153527")
DEMO_SCHOOL_SHORT_NAME = "ГБОУ Школа № 1535"
DEMO_SCHOOL_FULL_NAME = "Государственное бюджетное общеобразовательное учреждение города Москвы «Школа № 1535»"
CLASS_SIZE = 25

F, M = Sex.FEMALE, Sex.MALE


@dataclass(frozen=True, slots=True)
class _Account:
    role: str
    email: str
    phone: str
    person: Person
    who: str


OPERATOR = _Account(
    "OPERATOR", "operator@demo.ediary.ru", "+79990000001", Person("Белов", "Игорь", "Сергеевич", M), "Оператор портала"
)
ADMIN = _Account(
    "SCHOOL_ADMIN",
    "admin@demo.ediary.ru",
    "+79990000002",
    Person("Орлова", "Татьяна", "Николаевна", F),
    f"Ответственный за дневник, заместитель директора ({DEMO_SCHOOL_SHORT_NAME})",
)
TEACHER = _Account(
    "TEACHER",
    "teacher@demo.ediary.ru",
    "+79990000003",
    Person("Кузнецова", "Марина", "Петровна", F),
    "Учитель математики (5А, 5Б, 6А), классный руководитель 5А",
)
PARENT = _Account(
    "PARENT",
    "parent@demo.ediary.ru",
    "+79990000004",
    Person("Соколова", "Елена", "Андреевна", F),
    "Родитель Соколова Артёма (5А) и Соколовой Анны (7А)",
)
STUDENT = _Account(
    "STUDENT", "student@demo.ediary.ru", "+79990000005", Person("Соколов", "Артём", "Дмитриевич", M), "Ученик 5А"
)
_ACCOUNTS = (OPERATOR, ADMIN, TEACHER, PARENT, STUDENT)

DEMO_LOGINS: list[tuple[str, str, str]] = [(a.role, a.email, f"{a.who} — {a.person.full_name}") for a in _ACCOUNTS]

SOKOLOV_FAMILY = Family("Соколов", ("Дмитрий", "Дмитриевич", "Дмитриевна"))
STUDENT_BIRTH = dt.date(2015, 6, 14)
SISTER = Person("Соколова", "Анна", "Дмитриевна", F)
SISTER_BIRTH = dt.date(2013, 10, 2)

CLASSES: tuple[tuple[str, int, str], ...] = (("5А", 5, "А"), ("5Б", 5, "Б"), ("6А", 6, "А"), ("7А", 7, "А"))
_ALL = tuple(c[0] for c in CLASSES)


@dataclass(frozen=True, slots=True)
class _TeacherSpec:
    key: str
    person: Person
    email: str
    phone: str
    room: str
    teaches: tuple[tuple[frozenset[str], tuple[str, ...]], ...]


def _t(n: int) -> tuple[str, str]:
    return f"teacher{n:02d}@demo.ediary.ru", f"+7999000{10 + n:04d}"


TEACHERS: tuple[_TeacherSpec, ...] = (
    _TeacherSpec(
        "math", TEACHER.person, TEACHER.email, TEACHER.phone, "Каб. 214", ((frozenset({"MATH"}), ("5А", "5Б", "6А")),)
    ),
    _TeacherSpec(
        "rus5", Person("Волкова", "Ирина", "Александровна", F), *_t(2), "Каб. 301",
        ((frozenset({"RUS", "LIT"}), ("5А", "5Б")),),
    ),
    _TeacherSpec(
        "rus67", Person("Лебедева", "Наталья", "Викторовна", F), *_t(3), "Каб. 302",
        ((frozenset({"RUS", "LIT"}), ("6А", "7А")),),
    ),
    _TeacherSpec(
        "eng", Person("Зайцева", "Екатерина", "Игоревна", F), *_t(4), "Каб. 307", ((frozenset({"ENG"}), _ALL),)
    ),
    _TeacherSpec(
        "hist", Person("Павлов", "Дмитрий", "Сергеевич", M), *_t(5), "Каб. 205",
        ((frozenset({"HIST", "SOC", "ODNK"}), _ALL),),
    ),
    _TeacherSpec(
        "geobio", Person("Никитина", "Ольга", "Владимировна", F), *_t(6), "Каб. 210",
        ((frozenset({"GEO", "BIO"}), _ALL),),
    ),
    _TeacherSpec(
        "phys", Person("Соловьёв", "Алексей", "Михайлович", M), *_t(7), "Каб. 216",
        ((frozenset({"ALG", "GEOM", "PROB", "PHYS"}), ("7А",)), (frozenset({"INF"}), _ALL)),
    ),
    _TeacherSpec(
        "art", Person("Егорова", "Светлана", "Юрьевна", F), *_t(8), "Каб. 105",
        ((frozenset({"ART", "TECH"}), _ALL),),
    ),
    _TeacherSpec(
        "music", Person("Григорьева", "Людмила", "Ивановна", F), *_t(9), "Каб. 110", ((frozenset({"MUS"}), _ALL),)
    ),
    _TeacherSpec(
        "pe", Person("Фёдоров", "Сергей", "Николаевич", M), *_t(10), "Спортзал", ((frozenset({"PE"}), _ALL),)
    ),
)  # fmt: skip
HOMEROOM = {"5А": "math", "5Б": "rus5", "6А": "hist", "7А": "rus67"}

# A teacher off sick for a day: her lessons are taken by free colleagues.
SICK_TEACHER = ("geobio", dt.date(2026, 11, 19))
# A future lesson cancelled for a school concert.
CANCELLED = ("6А", "MUS", dt.date(2026, 12, 9))

# The newcomer whose application waits in the school admin's queue.
APPLICANT = Person("Морозова", "Ольга", "Викторовна", F)
APPLICANT_PHONE = "+79990000030"
APPLICANT_CHILD = (Person("Морозов", "Кирилл", "Олегович", M), dt.date(2014, 4, 21))


def teaching_plan() -> dict[tuple[str, str], str]:
    """(class, subject) → teacher key, for every hour of every class's curriculum."""
    plan: dict[tuple[str, str], str] = {}
    for cls, level, _letter in CLASSES:
        for subject in HOURS[level]:
            keys = [
                t.key for t in TEACHERS for subjects, classes in t.teaches if subject in subjects and cls in classes
            ]
            if len(keys) != 1:
                raise RuntimeError(f"demo: {cls} {subject} is taught by {keys or 'nobody'}")
            plan[cls, subject] = keys[0]
    return plan


def demo_timetable() -> list[Placement]:
    plan = teaching_plan()
    levels = {cls: level for cls, level, _ in CLASSES}
    demands = [
        Demand(cls, teacher, subject, HOURS[levels[cls]][subject]) for (cls, subject), teacher in sorted(plan.items())
    ]
    return build_timetable(demands, seed=DEMO_SEED)


@dataclass(slots=True)
class _Kid:
    person: Person
    birth_date: dt.date
    class_key: str
    ability: float
    parent_key: str  # "demo" for the Sokolovs, else the parent's own index
    child_id: int = 0
    user_id: int | None = None


@dataclass(slots=True)
class _Lesson:
    class_key: str
    subject: str
    teacher: str
    substitute: str | None
    day: dt.date
    number: int
    topic: str
    is_test: bool
    ordinal: int
    status: LessonStatus
    id: int = 0

    @property
    def acting(self) -> str:
        return self.substitute or self.teacher

    @property
    def start(self) -> dt.time:
        return BELLS[self.number][0]

    @property
    def end(self) -> dt.time:
        return BELLS[self.number][1]


@dataclass(slots=True)
class _State:
    """Ids of what is already in the database."""

    users: dict[str, int] = field(default_factory=dict)  # teacher key / account role → user id
    parents: list[int] = field(default_factory=list)  # other children's parents, by kid index
    classes: dict[str, int] = field(default_factory=dict)


async def seed_demo(session_factory: async_sessionmaker[AsyncSession]) -> bool:
    """Load the demo school in one transaction; False (and nothing done) if it is already there."""
    async with session_factory() as session:
        if await _demo_present(session):
            return False
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with session_factory() as session, session.begin():
        if await _demo_present(session):
            return False
        await _check_logins_free(session)
        calendar = await load_calendar(session)
        await _DemoBuilder(session, password_hash, calendar).run()
    await analyze_all(session_factory)  # a bulk load: statistics before the first request (db/analyze.py)
    return True


async def _demo_present(session: AsyncSession) -> bool:
    return await session.scalar(select(School.id).where(School.inn == DEMO_SCHOOL_INN)) is not None


async def _check_logins_free(session: AsyncSession) -> None:
    emails = [a.email for a in _ACCOUNTS]
    phones = [a.phone for a in _ACCOUNTS]
    taken = (
        await session.execute(select(User.email, User.phone).where(User.email.in_(emails) | User.phone.in_(phones)))
    ).all()
    if taken:
        raise RuntimeError(f"demo logins already belong to other accounts: {[tuple(t) for t in taken]}")


class _DemoBuilder:
    def __init__(self, session: AsyncSession, password_hash: str, calendar: SchoolCalendar) -> None:
        self.session = session
        self.password_hash = password_hash
        self.calendar = calendar
        self.names = NameMaker(DEMO_SEED)
        self.rng = random.Random(DEMO_SEED)  # noqa: S311 - reproducible demo data, not secrets
        self.ids = _State()
        self.kids: list[_Kid] = []
        self.parents: list[Person] = []  # of the other children, by index
        self.frame: SchoolFrame
        self.school_id = 0
        self.settlement_id = 0

    async def run(self) -> None:
        self.settlement_id = await ensure_moscow(self.session)
        self._make_kids()
        await self._users()
        await self._school()
        self.frame = await create_school_frame(self.session, school_id=self.school_id)
        await self._classes()
        await self._children()
        placements = demo_timetable()
        template_ids = await self._templates(placements)
        lessons = await self._lessons(placements, template_ids)
        absent = await self._attendance(lessons)
        grades = await self._grades(lessons, absent)
        homework = await self._homework(lessons)
        await self._completions(homework)
        await self._announcements()
        await self._applications_and_guardians()
        await self._conversation()
        await self._notifications(grades, homework)

    # -- people -------------------------------------------------------------------

    def _make_kids(self) -> None:
        for cls, level, _letter in CLASSES:
            group: list[_Kid] = []
            if cls == "5А":
                group.append(_Kid(STUDENT.person, STUDENT_BIRTH, cls, 4.5, "demo"))
            if cls == "7А":
                group.append(_Kid(SISTER, SISTER_BIRTH, cls, 4.3, "demo"))
            while len(group) < CLASS_SIZE:
                family = self.names.family()
                person = self.names.child(self.names.sex(), family)
                if any(k.person.last_name == person.last_name for k in group):
                    continue  # no namesakes in one class: the journal stays readable
                kid = _Kid(person, self.names.birth_date(level, YEAR_START), cls, ability(self.rng), "")
                parent_sex = F if self.rng.random() < 0.75 else M
                parent = self.names.adult(parent_sex, family)
                kid.parent_key = str(len(self.parents))
                self.parents.append(parent)
                group.append(kid)
            group.sort(key=lambda k: (k.person.last_name, k.person.first_name))
            self.kids.extend(group)

    async def _users(self) -> None:
        rows: list[Row] = []
        keys: list[str] = []

        def add(key: str, row: Row) -> None:
            keys.append(key)
            rows.append(row)

        h = self.password_hash
        add(
            "OPERATOR",
            user_row(OPERATOR.person, password_hash=h, email=OPERATOR.email, phone=OPERATOR.phone, is_operator=True),
        )
        add("SCHOOL_ADMIN", user_row(ADMIN.person, password_hash=h, email=ADMIN.email, phone=ADMIN.phone))
        for t in TEACHERS:
            add(t.key, user_row(t.person, password_hash=h, email=t.email, phone=t.phone))
        add("PARENT", user_row(PARENT.person, password_hash=h, email=PARENT.email, phone=PARENT.phone))
        add(
            "STUDENT",
            user_row(
                STUDENT.person, password_hash=h, email=STUDENT.email, phone=STUDENT.phone, birth_date=STUDENT_BIRTH
            ),
        )
        add("APPLICANT", user_row(APPLICANT, password_hash=h, email="parent.new@demo.ediary.ru", phone=APPLICANT_PHONE))
        for n, parent in enumerate(self.parents, start=1):
            add(
                f"parent:{n - 1}",
                user_row(parent, password_hash=h, email=f"parent{n:03d}@demo.ediary.ru", phone=f"+7999100{n:04d}"),
            )  # fmt: skip
        ids = await insert_ids(self.session, User, rows)
        self.ids.users = dict(zip(keys, ids, strict=True))
        self.ids.parents = [self.ids.users[f"parent:{i}"] for i in range(len(self.parents))]

    def _parent_of(self, kid: _Kid) -> int:
        return self.ids.users["PARENT"] if kid.parent_key == "demo" else self.ids.parents[int(kid.parent_key)]

    # -- the school -----------------------------------------------------------------

    async def _school(self) -> None:
        self.school_id = await insert_one(
            self.session,
            School,
            {
                "full_name": DEMO_SCHOOL_FULL_NAME,
                "short_name": DEMO_SCHOOL_SHORT_NAME,
                "name_normalized": normalize_name(f"{DEMO_SCHOOL_FULL_NAME} {DEMO_SCHOOL_SHORT_NAME}"),
                "type": SchoolType.SCHOOL,
                "inn": DEMO_SCHOOL_INN,
                "okpo": DEMO_SCHOOL_OKPO,
                "kpp": f"{DEMO_SCHOOL_INN[:4]}01001",
                "address": "115184, г. Москва, ул. Школьная, д. 15",
                "settlement_id": self.settlement_id,
                "phone": "+74951535000",
                "email": "school1535@demo.ediary.ru",
                "website": "https://school1535.demo.ediary.ru",
                "timezone": "Europe/Moscow",
                "status": SchoolStatus.ACTIVE,
                "launch_mode": LaunchMode.OPEN,
                "diary_uid": "ED-77-DEMO-1535",
                "registered_by_id": self.ids.users["SCHOOL_ADMIN"],
                "rejection_reason": None,
                "reviewed_by_id": self.ids.users["OPERATOR"],
                "reviewed_at": at_moscow(dt.date(2026, 8, 21), dt.time(11, 30)),
            },
        )
        members = [
            {"user_id": self.ids.users["SCHOOL_ADMIN"], "school_id": self.school_id, "role": StaffRole.SCHOOL_ADMIN}
        ]
        members += [
            {"user_id": self.ids.users[t.key], "school_id": self.school_id, "role": StaffRole.TEACHER} for t in TEACHERS
        ]
        for m in members:
            m["active"] = True
        await insert_rows(self.session, StaffMembership, members)
        await add_default_report_templates(self.session, school_id=self.school_id)  # as a registered school has

    async def _classes(self) -> None:
        rows = [
            {
                "school_id": self.school_id,
                "academic_year_id": self.frame.year_id,
                "level": level,
                "letter": letter,
                "homeroom_teacher_id": self.ids.users[HOMEROOM[cls]],
                "external_id": None,
            }
            for cls, level, letter in CLASSES
        ]
        ids = await insert_ids(self.session, SchoolClass, rows)
        self.ids.classes = {cls: cid for (cls, _, _), cid in zip(CLASSES, ids, strict=True)}
        await insert_rows(
            self.session,
            TeachingAssignment,
            [
                {
                    "teacher_id": self.ids.users[teacher],
                    "class_id": self.ids.classes[cls],
                    "subject_id": self.frame.subject_ids[subject],
                }
                for (cls, subject), teacher in sorted(teaching_plan().items())
            ],
        )

    async def _children(self) -> None:
        rows: list[Row] = []
        for n, kid in enumerate(self.kids):
            series, number = birth_certificate(self.rng, 900_000 + n)
            rows.append(
                {
                    "last_name": kid.person.last_name,
                    "first_name": kid.person.first_name,
                    "middle_name": kid.person.middle_name,
                    "birth_date": kid.birth_date,
                    "sex": kid.person.sex,
                    "snils": snils(500_000_000 + n),
                    "birth_cert_series": series,
                    "birth_cert_number": number,
                    "birth_cert_issued_on": kid.birth_date + dt.timedelta(days=self.rng.randint(7, 30)),
                    "citizenship": "643",
                    "user_id": self.ids.users["STUDENT"] if kid.person == STUDENT.person else None,
                    "school_id": self.school_id,
                    "external_id": None,
                }
            )
        ids = await insert_ids(self.session, Child, rows)
        for kid, cid, row in zip(self.kids, ids, rows, strict=True):
            kid.child_id = cid
            kid.user_id = row["user_id"]
        await insert_rows(
            self.session,
            Enrollment,
            [
                {
                    "child_id": k.child_id,
                    "class_id": self.ids.classes[k.class_key],
                    "starts_on": YEAR_START,
                    "ends_on": None,
                }
                for k in self.kids
            ],
        )

    # -- timetable and lessons --------------------------------------------------------

    async def _templates(self, placements: list[Placement]) -> dict[str, int]:
        quarter = QUARTERS[1]
        template_rows = [
            {
                "school_id": self.school_id,
                "class_id": self.ids.classes[cls],
                "period_id": self.frame.period_ids[quarter.number],
                "name": f"Расписание {cls}, {quarter.name}",
                "created_by_id": self.ids.users["SCHOOL_ADMIN"],
            }
            for cls, _, _ in CLASSES
        ]
        ids = await insert_ids(self.session, TimetableTemplate, template_rows)
        templates = {cls: tid for (cls, _, _), tid in zip(CLASSES, ids, strict=True)}
        rooms = {t.key: t.room for t in TEACHERS}
        await insert_rows(
            self.session,
            TimetableSlot,
            [
                {
                    "template_id": templates[p.class_key],
                    "weekday": p.weekday,
                    "lesson_number": p.number,
                    "start_time": p.start,
                    "end_time": p.end,
                    "subject_id": self.frame.subject_ids[p.subject],
                    "teacher_id": self.ids.users[p.teacher_key],
                    "room": rooms[p.teacher_key],
                }
                for p in sorted(placements, key=lambda p: (p.class_key, p.weekday, p.number))
            ],
        )
        return templates

    async def _lessons(self, placements: list[Placement], templates: dict[str, int]) -> list[_Lesson]:
        levels = {cls: level for cls, level, _ in CLASSES}
        busy = {(p.teacher_key, p.weekday, p.number) for p in placements}
        ordinals: dict[tuple[str, str], int] = defaultdict(int)
        lessons: list[_Lesson] = []
        for day in self.calendar.school_days(DEMO_FROM, DEMO_TO):
            for p in sorted(placements, key=lambda p: (p.class_key, p.number)):
                if p.weekday != day.isoweekday():
                    continue
                ordinal = ordinals[p.class_key, p.subject]
                ordinals[p.class_key, p.subject] += 1
                topic, is_test = lesson_topic(p.subject, ordinal, HOURS[levels[p.class_key]][p.subject])
                substitute = None
                if (p.teacher_key, day) == SICK_TEACHER:
                    substitute = next(
                        t.key for t in TEACHERS if t.key != p.teacher_key and (t.key, p.weekday, p.number) not in busy
                    )
                cancelled = (p.class_key, p.subject, day) == CANCELLED
                lessons.append(
                    _Lesson(
                        p.class_key,
                        p.subject,
                        p.teacher_key,
                        substitute,
                        day,
                        p.number,
                        topic,
                        is_test,
                        ordinal,
                        LessonStatus.CANCELLED if cancelled else LessonStatus.SCHEDULED,
                    )
                )
        rooms = {t.key: t.room for t in TEACHERS}
        rows = [
            {
                "school_id": self.school_id,
                "class_id": self.ids.classes[les.class_key],
                "subject_id": self.frame.subject_ids[les.subject],
                "teacher_id": self.ids.users[les.teacher],
                "date": les.day,
                "start_time": les.start,
                "end_time": les.end,
                "lesson_number": les.number,
                "room": rooms[les.teacher],
                "topic": les.topic,
                "status": les.status,
                "substitute_teacher_id": self.ids.users[les.substitute] if les.substitute else None,
                "template_id": templates[les.class_key],
                "external_id": None,
            }
            for les in lessons
        ]
        for les, lid in zip(lessons, await insert_ids(self.session, Lesson, rows), strict=True):
            les.id = lid
        return lessons

    # -- attendance, marks, homework -------------------------------------------------------

    def _day_marks(
        self, days: list[dt.date]
    ) -> dict[tuple[int, dt.date], tuple[AttendanceStatus, str | None, int | None]]:
        """(kid index, day) → how a child missed it: a whole day (SICK, EXCUSED, ABSENT) or LATE to the first lesson."""
        out: dict[tuple[int, dt.date], tuple[AttendanceStatus, str | None, int | None]] = {}
        for i, kid in enumerate(self.kids):
            if kid.parent_key == "demo":
                continue
            if self.rng.random() < 0.14:  # one illness of 2–5 school days
                start = self.rng.randrange(len(days))
                for day in days[start : start + self.rng.randint(2, 5)]:
                    out[i, day] = (AttendanceStatus.SICK, "Болезнь (справка из поликлиники)", None)
            for day in days:
                if (i, day) in out:
                    continue
                r = self.rng.random()
                if r < 0.008:
                    reason = self.rng.choice(
                        ("Участие в олимпиаде", "Семейные обстоятельства (заявление родителей)", "Соревнования")
                    )
                    out[i, day] = (AttendanceStatus.EXCUSED, reason, None)
                elif r < 0.012:
                    out[i, day] = (AttendanceStatus.ABSENT, None, None)
                elif r < 0.03:
                    late_reason: str | None = self.rng.choice((None, None, "Задержка транспорта"))
                    out[i, day] = (AttendanceStatus.LATE, late_reason, self.rng.randint(3, 20))
        # The demo family, so that the parent's diary shows each kind.
        student = next(i for i, k in enumerate(self.kids) if k.person == STUDENT.person)
        sister = next(i for i, k in enumerate(self.kids) if k.person == SISTER)
        for day in (dt.date(2026, 11, 12), dt.date(2026, 11, 13)):
            out[student, day] = (AttendanceStatus.SICK, "Болезнь (справка из поликлиники)", None)
        out[student, dt.date(2026, 11, 18)] = (AttendanceStatus.LATE, "Задержка транспорта", 10)
        out[sister, dt.date(2026, 11, 24)] = (AttendanceStatus.EXCUSED, "Участие в олимпиаде по литературе", None)
        return out

    async def _attendance(self, lessons: list[_Lesson]) -> set[tuple[int, int]]:
        """Marks for every child at every past lesson; returns (kid index, lesson id) of those away."""
        past = [les for les in lessons if les.day <= TODAY and les.status is LessonStatus.SCHEDULED]
        days = sorted({les.day for les in past})
        by_day = self._day_marks(days)
        first_lesson: dict[tuple[str, dt.date], int] = {}
        for les in past:
            key = (les.class_key, les.day)
            first_lesson[key] = min(first_lesson.get(key, 99), les.number)
        rows: list[Row] = []
        away: set[tuple[int, int]] = set()
        kids_by_class: dict[str, list[int]] = defaultdict(list)
        for i, kid in enumerate(self.kids):
            kids_by_class[kid.class_key].append(i)
        for les in past:
            marked_by = self.ids.users[les.acting]
            marked_at = at_moscow(les.day, les.start) + dt.timedelta(minutes=10)
            for i in kids_by_class[les.class_key]:
                status, reason, late = AttendanceStatus.PRESENT, None, None
                mark = by_day.get((i, les.day))
                if mark is not None:
                    if mark[0] is AttendanceStatus.LATE:
                        if les.number == first_lesson[les.class_key, les.day]:
                            status, reason, late = mark
                    else:
                        status, reason = mark[0], mark[1]
                elif self.rng.random() < 0.002:  # left one lesson without leave
                    status = AttendanceStatus.ABSENT
                if status not in (AttendanceStatus.PRESENT, AttendanceStatus.LATE):
                    away.add((i, les.id))
                rows.append(
                    {
                        "school_id": self.school_id,
                        "child_id": self.kids[i].child_id,
                        "lesson_id": les.id,
                        "status": status,
                        "minutes_late": late,
                        "reason": reason,
                        "marked_by_id": marked_by,
                        "marked_at": marked_at,
                    }
                )
        await insert_rows(self.session, Attendance, rows)
        return away

    async def _grades(self, lessons: list[_Lesson], away: set[tuple[int, int]]) -> list[Row]:
        """Marks for past lessons: everyone at a test, a few children at an ordinary lesson."""
        kids_by_class: dict[str, list[int]] = defaultdict(list)
        for i, kid in enumerate(self.kids):
            kids_by_class[kid.class_key].append(i)
        student = next(i for i, k in enumerate(self.kids) if k.person == STUDENT.person)
        last_math = max(
            (les for les in lessons if les.class_key == "5А" and les.subject == "MATH" and les.day < TODAY),
            key=lambda les: (les.day, les.number),
        )
        rows: list[Row] = []
        graded: list[tuple[int, _Lesson]] = []
        for les in lessons:
            if les.day > TODAY or les.status is not LessonStatus.SCHEDULED:
                continue
            sub = SUBJECT_BY_CODE[les.subject]
            present = [i for i in kids_by_class[les.class_key] if (i, les.id) not in away]
            picks: list[tuple[int, str, float]] = []  # kid, control type, difficulty
            if les.is_test and sub.big is not None:
                picks = [(i, sub.big, 0.15) for i in present]
            elif sub.mid is not None and les.ordinal % 8 == 3:
                picks = [(i, sub.mid, 0.05) for i in present]
            else:
                few = self.rng.randint(1, 3) if sub.big is None else self.rng.randint(2, 5)
                chosen = self.rng.sample(present, min(few, len(present)))
                if les is last_math and student not in chosen and student in present:
                    chosen.append(student)
                picks = [(i, self.rng.choice(sub.routine), 0.0) for i in chosen]
            created_at = at_moscow(les.day, les.end) + dt.timedelta(minutes=self.rng.randint(5, 240))
            for i, control, difficulty in picks:
                kid = self.kids[i]
                mark = draw_mark(self.rng, kid.ability, difficulty=difficulty)
                comment = None
                if mark == 2 and self.rng.random() < 0.5:
                    comment = self.rng.choice(("Не выполнено задание", "Не готов к уроку", "Много ошибок"))
                elif mark == 5 and difficulty > 0.1 and self.rng.random() < 0.15:
                    comment = "Отличная работа!"
                rows.append(
                    grade_row(
                        school_id=self.school_id,
                        child_id=kid.child_id,
                        lesson_id=les.id,
                        subject_id=self.frame.subject_ids[les.subject],
                        class_id=self.ids.classes[les.class_key],
                        period_id=self.frame.period_for(les.day),
                        mark=mark,
                        control=self.frame.control_types[control],
                        teacher_id=self.ids.users[les.acting],
                        graded_on=les.day,
                        comment=comment,
                        created_at=created_at,
                    )
                )
                graded.append((i, les))
        # A few poor marks were put right after a resit: the history keeps both steps.
        corrected: dict[int, str] = {}
        for n, row in enumerate(rows):
            if len(corrected) < 4 and row["value"] == "2" and row["graded_on"] < dt.date(2026, 11, 20):
                old = row["value"]
                new = self.rng.choice(("3", "4"))
                corrected[n] = old
                row.update(value=new, numeric_value=int(new), comment="Исправлено после пересдачи")
                row["updated_at"] = row["created_at"] + dt.timedelta(days=7)
        ids = await insert_ids(self.session, Grade, rows)
        revisions: list[Row] = []
        for n, (row, gid) in enumerate(zip(rows, ids, strict=True)):
            row["id"] = gid
            key = (int(row["school_id"]), gid)
            first_value = corrected.get(n, row["value"])
            teacher = row["teacher_id"]
            if n in corrected:
                revisions.append(
                    _revision(
                        key, GradeAction.CREATED, (None, first_value), (None, None), None, teacher, row["created_at"]
                    )
                )
                revisions.append(
                    _revision(
                        key, GradeAction.CORRECTED, (first_value, row["value"]), (None, row["comment"]), "Пересдача",
                        teacher, row["updated_at"],
                    )
                )  # fmt: skip
            else:
                revisions.append(
                    _revision(
                        key,
                        GradeAction.CREATED,
                        (None, first_value),
                        (None, row["comment"]),
                        None,
                        teacher,
                        row["created_at"],
                    )
                )
        await insert_rows(self.session, GradeRevision, revisions)
        for row, (i, _les) in zip(rows, graded, strict=True):
            row["kid"] = i
        return rows

    async def _homework(self, lessons: list[_Lesson]) -> list[Row]:
        series: dict[tuple[str, str], list[_Lesson]] = defaultdict(list)
        for les in lessons:
            if les.status is LessonStatus.SCHEDULED:
                series[les.class_key, les.subject].append(les)
        rows: list[Row] = []
        for (cls, subject), group in sorted(series.items()):
            for n, les in enumerate(group):
                task = homework_for(subject, les.ordinal, self.rng)
                if task is None or self.rng.random() < 0.1:
                    continue
                text, minutes = task
                following = group[n + 1] if n + 1 < len(group) else None
                if following is not None and following.is_test:
                    text = f"Подготовиться к контрольной работе: повторить тему «{les.topic}». {text}"
                due = following.day if following is not None else les.day + dt.timedelta(days=7)
                rows.append(
                    {
                        "school_id": self.school_id,
                        "lesson_id": les.id,
                        "class_id": self.ids.classes[cls],
                        "subject_id": self.frame.subject_ids[subject],
                        "text": text,
                        "published_on": les.day,
                        "due_on": due,
                        "expected_minutes": minutes,
                        "created_by_id": self.ids.users[les.acting],
                        "created_at": at_moscow(les.day, les.end),
                        "updated_at": at_moscow(les.day, les.end),
                    }
                )
        for row, hid in zip(rows, await insert_ids(self.session, Homework, rows), strict=True):
            row["id"] = hid
        return rows

    async def _completions(self, homework: list[Row]) -> None:
        by_class: dict[int, list[_Kid]] = defaultdict(list)
        for kid in self.kids:
            by_class[self.ids.classes[kid.class_key]].append(kid)
        rows: list[Row] = []
        for hw in homework:
            if hw["due_on"] > TODAY:
                continue
            for kid in by_class[hw["class_id"]]:
                if self.rng.random() > 0.45 + 0.1 * kid.ability:
                    continue
                evening = max(hw["due_on"] - dt.timedelta(days=1), hw["published_on"])
                done_at = at_moscow(evening, dt.time(18, 0)) + dt.timedelta(minutes=self.rng.randint(0, 240))
                rows.append(
                    {
                        "school_id": hw["school_id"],
                        "homework_id": hw["id"],
                        "child_id": kid.child_id,
                        "done_at": done_at,
                        "marked_by_id": kid.user_id or self._parent_of(kid),
                    }
                )
        await insert_rows(self.session, HomeworkCompletion, rows)

    # -- school life ---------------------------------------------------------------------

    async def _announcements(self) -> None:
        admin, teacher = self.ids.users["SCHOOL_ADMIN"], self.ids.users["math"]
        rows: list[Row] = [
            {
                "audience": AnnouncementAudience.SCHOOL,
                "kind": AnnouncementKind.MEETING,
                "title": "Общешкольное родительское собрание",
                "body": "3 декабря в 18:30 в актовом зале пройдёт общешкольное родительское собрание. "
                "Повестка: итоги первой четверти, питание, безопасность на зимних каникулах.",
                "starts_on": dt.date(2026, 11, 23),
                "ends_on": dt.date(2026, 12, 3),
                "author_id": admin,
                "created_at": at_moscow(dt.date(2026, 11, 23), dt.time(9, 0)),
            },
            {
                "audience": AnnouncementAudience.CLASSES,
                "kind": AnnouncementKind.EVENT,
                "title": "Экскурсия в Политехнический музей",
                "body": "5 декабря (суббота) 5А едет в Политехнический музей. Сбор в 10:00 у школы, "
                "возвращение к 15:00. Принесите, пожалуйста, подписанное согласие родителей до 2 декабря.",
                "starts_on": dt.date(2026, 11, 25),
                "ends_on": dt.date(2026, 12, 5),
                "author_id": teacher,
                "created_at": at_moscow(dt.date(2026, 11, 25), dt.time(15, 20)),
            },
            {
                "audience": AnnouncementAudience.SCHOOL,
                "kind": AnnouncementKind.HOLIDAY,
                "title": "Зимние каникулы",
                "body": "Зимние каникулы — с 28 декабря 2026 года по 10 января 2027 года. "
                "Занятия начинаются 11 января.",
                "starts_on": dt.date(2026, 12, 1),
                "ends_on": dt.date(2027, 1, 10),
                "author_id": admin,
                "created_at": at_moscow(dt.date(2026, 11, 20), dt.time(12, 0)),
            },
        ]
        for row in rows:
            row["school_id"] = self.school_id
        await insert_rows(self.session, Announcement, rows)
        excursion = await self.session.scalar(
            select(Announcement.id).where(
                Announcement.school_id == self.school_id, Announcement.audience == AnnouncementAudience.CLASSES
            )
        )
        await insert_rows(
            self.session, AnnouncementClass, [{"announcement_id": excursion, "class_id": self.ids.classes["5А"]}]
        )

    async def _application_numbers(self, year: int, count: int) -> list[str]:
        """Take `count` numbers from the per-year counter, as the application service does."""
        last = await self.session.scalar(
            select(ApplicationNumberCounter.last_value).where(ApplicationNumberCounter.year == year)
        )
        if last is None:
            await insert_rows(self.session, ApplicationNumberCounter, [{"year": year, "last_value": count}])
            first = 1
        else:
            await self.session.execute(
                update(ApplicationNumberCounter)
                .where(ApplicationNumberCounter.year == year)
                .values(last_value=ApplicationNumberCounter.last_value + count)
            )
            first = int(last) + 1
        return [f"ED-{year}-{n:06d}" for n in range(first, first + count)]

    async def _applications_and_guardians(self) -> None:
        parent, admin, applicant = self.ids.users["PARENT"], self.ids.users["SCHOOL_ADMIN"], self.ids.users["APPLICANT"]
        demo_kids = [k for k in self.kids if k.parent_key == "demo"]
        numbers = await self._application_numbers(2026, len(demo_kids) + 1)
        submitted_day = dt.date(2026, 8, 24)
        pending_day = dt.date(2026, 11, 25)
        newcomer, newcomer_birth = APPLICANT_CHILD
        rows: list[Row] = []
        for kid, number in zip(demo_kids, numbers, strict=False):
            rows.append(
                self._application_row(
                    number=number,
                    applicant_id=parent,
                    status=ApplicationStatus.APPROVED,
                    class_key=kid.class_key,
                    person=kid.person,
                    birth_date=kid.birth_date,
                    submitted_at=at_moscow(submitted_day, dt.time(9, 55)),
                    decided_at=at_moscow(dt.date(2026, 8, 26), dt.time(11, 0)),
                    child_id=kid.child_id,
                    n=len(rows),
                )
            )
        rows.append(
            self._application_row(
                number=numbers[-1],
                applicant_id=applicant,
                status=ApplicationStatus.SUBMITTED,
                class_key="6А",
                person=newcomer,
                birth_date=newcomer_birth,
                submitted_at=at_moscow(pending_day, dt.time(12, 5)),
                decided_at=None,
                child_id=None,
                n=len(rows),
            )
        )
        ids = await insert_ids(self.session, Application, rows)
        steps = (
            (ApplicationAction.CREATE, None, ApplicationStatus.DRAFT, "applicant", dt.timedelta(minutes=-15), None),
            (
                ApplicationAction.SUBMIT, ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, "applicant",
                dt.timedelta(), None,
            ),
            (
                ApplicationAction.ACCEPT, ApplicationStatus.SUBMITTED, ApplicationStatus.ACCEPTED, "admin",
                dt.timedelta(days=1), None,
            ),
            (
                ApplicationAction.START_REVIEW, ApplicationStatus.ACCEPTED, ApplicationStatus.IN_REVIEW, "admin",
                dt.timedelta(days=1, minutes=2), None,
            ),
            (
                ApplicationAction.APPROVE, ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED, "admin",
                dt.timedelta(days=2, hours=1), "Сведения подтверждены, доступ к дневнику открыт",
            ),
        )  # fmt: skip
        events: list[Row] = []
        for row, app_id in zip(rows, ids, strict=True):
            for action, before, after, who, delay, comment in steps:
                if row["status"] is ApplicationStatus.SUBMITTED and action not in (
                    ApplicationAction.CREATE,
                    ApplicationAction.SUBMIT,
                ):
                    continue
                events.append(
                    {
                        "application_id": app_id,
                        "from_status": before,
                        "to_status": after,
                        "action": action,
                        "actor_id": row["applicant_id"] if who == "applicant" else admin,
                        "comment": comment,
                        "created_at": row["submitted_at"] + delay,
                    }
                )
        await insert_rows(self.session, ApplicationEvent, events)
        app_of_child = {row["child_id"]: app_id for row, app_id in zip(rows, ids, strict=True) if row["child_id"]}
        await insert_rows(
            self.session,
            Guardianship,
            [
                {
                    "parent_id": self._parent_of(k),
                    "child_id": k.child_id,
                    "application_id": app_of_child.get(k.child_id),
                }
                for k in self.kids
            ],
        )

    def _application_row(
        self,
        *,
        number: str,
        applicant_id: int,
        status: ApplicationStatus,
        class_key: str,
        person: Person,
        birth_date: dt.date,
        submitted_at: dt.datetime,
        decided_at: dt.datetime | None,
        child_id: int | None,
        n: int,
    ) -> Row:
        series, cert_number = birth_certificate(self.rng, 990_000 + n)
        submitted_day = submitted_at.astimezone(MOSCOW).date()
        return {
            "number": number,
            "applicant_id": applicant_id,
            "status": status,
            "school_id": self.school_id,
            "class_id": self.ids.classes[class_key],
            "region_code": "77",
            "settlement_id": self.settlement_id,
            "child_last_name": person.last_name,
            "child_first_name": person.first_name,
            "child_middle_name": person.middle_name,
            "child_birth_date": birth_date,
            "child_sex": person.sex,
            "child_snils": snils(500_900_000 + n),
            "birth_cert_series": series,
            "birth_cert_number": cert_number,
            "birth_cert_issued_on": birth_date + dt.timedelta(days=20),
            "citizenship": "643",
            "submitted_at": submitted_at,
            "due_on": self.calendar.add_working_days(submitted_day, 5),
            "extended": False,
            "decided_at": decided_at,
            "rejection_reason": None,
            "child_id": child_id,
            "version": 1,
            "created_at": submitted_at - dt.timedelta(minutes=15),
            "updated_at": decided_at or submitted_at,
        }

    async def _conversation(self) -> None:
        teacher, parent = self.ids.users["math"], self.ids.users["PARENT"]
        student = next(k for k in self.kids if k.person == STUDENT.person)
        messages = (
            (
                teacher,
                at_moscow(dt.date(2026, 11, 25), dt.time(15, 40)),
                "Елена Андреевна, добрый день! Артём хорошо работает на уроках математики, так держать. "
                "Напоминаю про согласие на экскурсию 5 декабря.",
            ),
            (
                parent,
                at_moscow(dt.date(2026, 11, 25), dt.time(19, 12)),
                "Марина Петровна, здравствуйте! Спасибо. Согласие подпишу и передам с Артёмом в понедельник.",
            ),
        )
        thread_id = await insert_one(
            self.session,
            Thread,
            {
                "school_id": self.school_id,
                "subject": "Экскурсия и успеваемость Артёма",
                "created_by_id": teacher,
                "child_id": student.child_id,
                "last_message_at": messages[-1][1],
                "created_at": messages[0][1],
            },
        )
        await insert_rows(
            self.session,
            ThreadParticipant,
            [
                {
                    "thread_id": thread_id,
                    "user_id": teacher,
                    "last_read_at": messages[0][1],
                    "created_at": messages[0][1],
                },
                {
                    "thread_id": thread_id,
                    "user_id": parent,
                    "last_read_at": messages[1][1],
                    "created_at": messages[0][1],
                },
            ],
        )
        await insert_rows(
            self.session,
            Message,
            [{"thread_id": thread_id, "author_id": a, "body": b, "created_at": t} for a, t, b in messages],
        )
        # Each has read up to their own last message; the thread lists by its newest.
        message_ids = list(
            await self.session.scalars(select(Message.id).where(Message.thread_id == thread_id).order_by(Message.id))
        )
        await self.session.execute(update(Thread).where(Thread.id == thread_id).values(last_message_id=message_ids[-1]))
        for user_id, read_up_to in ((teacher, message_ids[0]), (parent, message_ids[1])):
            await self.session.execute(
                update(ThreadParticipant)
                .where(ThreadParticipant.thread_id == thread_id, ThreadParticipant.user_id == user_id)
                .values(last_read_message_id=read_up_to)
            )

    async def _notifications(self, grades: list[Row], homework: list[Row]) -> None:
        parent = self.ids.users["PARENT"]
        student_i = next(i for i, k in enumerate(self.kids) if k.person == STUDENT.person)
        sister_i = next(i for i, k in enumerate(self.kids) if k.person == SISTER)
        student, sister = self.kids[student_i], self.kids[sister_i]
        math_id = self.frame.subject_ids["MATH"]
        math_grade = max(
            (g for g in grades if g["kid"] == student_i and g["subject_id"] == math_id),
            key=lambda g: (g["graded_on"], g["id"]),
        )
        sister_grade = max((g for g in grades if g["kid"] == sister_i), key=lambda g: (g["graded_on"], g["id"]))
        control_names = {cid: code for code, (cid, _w) in self.frame.control_types.items()}
        subject_names = {sid: code for code, sid in self.frame.subject_ids.items()}
        control_title = {c.code: c.name.lower() for c in CONTROL_TYPES}

        def grade_text(g: Row, kid: _Kid) -> tuple[str, str]:
            subject = SUBJECT_BY_CODE[subject_names[g["subject_id"]]].name
            control = control_title[control_names[g["control_type_id"]]]
            return (
                f"Новая оценка: {subject}",
                f"{kid.person.first_name} получил{'а' if kid.person.sex is F else ''} «{g['value']}» "
                f"({control}), {g['graded_on']:%d.%m.%Y}",
            )

        english = next(
            h for h in sorted(homework, key=lambda h: h["published_on"], reverse=True)
            if h["class_id"] == self.ids.classes["5А"] and h["subject_id"] == self.frame.subject_ids["ENG"]
            and h["published_on"] <= TODAY
        )  # fmt: skip
        meeting_at = at_moscow(dt.date(2026, 11, 23), dt.time(9, 1))
        entries: list[tuple[NotificationKind, str, str, dict[str, object], dt.datetime, bool]] = [
            (
                NotificationKind.APPLICATION_STATUS,
                "Заявки одобрены",
                f"Доступ к дневникам открыт: {student.person.first_name} ({student.class_key}), "
                f"{sister.person.first_name} ({sister.class_key}).",
                {"childIds": [student.child_id, sister.child_id]},
                at_moscow(dt.date(2026, 8, 26), dt.time(11, 0)),
                True,
            ),
            (
                NotificationKind.ATTENDANCE,
                "Пропуск уроков",
                f"{student.person.first_name} отсутствовал 12 и 13 ноября: болезнь (справка из поликлиники).",
                {"childId": student.child_id},
                at_moscow(dt.date(2026, 11, 12), dt.time(9, 0)),
                True,
            ),
            (
                NotificationKind.ATTENDANCE,
                "Опоздание на урок",
                f"{student.person.first_name} опоздал на первый урок 18 ноября на 10 минут.",
                {"childId": student.child_id},
                at_moscow(dt.date(2026, 11, 18), dt.time(8, 45)),
                True,
            ),
            (
                NotificationKind.ANNOUNCEMENT,
                "Общешкольное родительское собрание",
                "3 декабря в 18:30 в актовом зале.",
                {"schoolId": self.school_id},
                meeting_at,
                False,
            ),
            (
                NotificationKind.GRADE,
                *grade_text(sister_grade, sister),
                {"childId": sister.child_id, "gradeId": sister_grade["id"]},
                sister_grade["created_at"],
                False,
            ),
            (
                NotificationKind.GRADE,
                *grade_text(math_grade, student),
                {"childId": student.child_id, "gradeId": math_grade["id"]},
                math_grade["created_at"],
                False,
            ),
            (
                NotificationKind.HOMEWORK,
                "Домашнее задание: Английский язык",
                str(english["text"]),
                {"childId": student.child_id, "homeworkId": english["id"]},
                english["created_at"],
                False,
            ),
        ]
        entries.sort(key=lambda e: e[4])
        await insert_rows(
            self.session,
            Notification,
            [
                {
                    "user_id": parent,
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "payload": public_ids.public(payload),  # global IDs, as notify writes them
                    "read_at": created + dt.timedelta(hours=2) if read else None,
                    "created_at": created,
                }
                for kind, title, body, payload, created, read in entries
            ],
        )


def _revision(
    grade: tuple[int, int],
    action: GradeAction,
    values: tuple[str | None, str | None],
    comments: tuple[str | None, str | None],
    reason: str | None,
    by: int,
    at: dt.datetime,
) -> Row:
    school_id, grade_id = grade  # the grade's key: its school and id
    return {
        "school_id": school_id,
        "grade_id": grade_id,
        "action": action,
        "old_value": values[0],
        "new_value": values[1],
        "old_comment": comments[0],
        "new_comment": comments[1],
        "reason": reason,
        "changed_by_id": by,
        "changed_at": at,
    }
