"""importRoster as a service: idempotent re-imports, every bad row reported, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.enums import StaffRole, UserStatus
from ediary_gql.errors import DomainError
from ediary_gql.services.roster_import.importer import import_roster
from ediary_gql.services.roster_import.run import ImportFile
from tests.roster_import_support import add_quarter, example_files, snapshot
from tests.school_setup_support import World, build_world

TODAY = dt.date(2026, 11, 28)


def _actor(w: World, role: StaffRole = StaffRole.SCHOOL_ADMIN) -> Actor:
    user = w.admin if role is StaffRole.SCHOOL_ADMIN else w.teacher
    return Actor(
        user_id=user.id, session_id=None, status=UserStatus.CONFIRMED, memberships=frozenset({(w.school.id, role)})
    )


async def _run(session: AsyncSession, w: World, files: list[ImportFile], *, dry_run: bool = False) -> object:
    result = await import_roster(
        session, actor=_actor(w), school_id=w.school.id, files=files, dry_run=dry_run, today=TODAY
    )
    if result.applied:
        await session.commit()
    else:
        await session.rollback()
    return result


async def test_importing_the_examples_twice_leaves_the_same_data(app_services: object, session: AsyncSession) -> None:
    # given a school with its 2026/2027 year and first quarter
    w = await build_world(session)
    await add_quarter(session, w.year)
    await session.commit()
    # when the example files are imported
    first = await _run(session, w, example_files())
    assert first.problems == []  # type: ignore[attr-defined]
    assert {t.entity: (t.created, t.updated, t.unchanged) for t in first.summary} == {  # type: ignore[attr-defined]
        "subjects": (5, 0, 0),
        "teachers": (3, 0, 0),
        "classes": (3, 0, 0),
        "children": (8, 0, 0),
        "guardians": (4, 0, 0),
        "timetable": (12, 0, 0),
    }
    once = await snapshot(session)
    # and imported again
    second = await _run(session, w, example_files())
    # then nothing is created or changed the second time
    assert {t.entity: (t.created, t.updated) for t in second.summary} == dict.fromkeys(ORDER_KEYS, (0, 0))  # type: ignore[attr-defined]
    assert await snapshot(session) == once
    assert len(once["enrollments"]) == 8
    assert len(once["guardianships"]) == 5


ORDER_KEYS = ("subjects", "teachers", "classes", "children", "guardians", "timetable")


async def test_a_teacher_may_not_import(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    with pytest.raises(DomainError) as refused:
        await import_roster(
            session, actor=_actor(w, StaffRole.TEACHER), school_id=w.school.id, files=example_files(), dry_run=True
        )
    assert refused.value.code == "FORBIDDEN"


async def test_one_person_under_two_sourced_ids_is_refused(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    teachers = "sourcedId,lastName,firstName,email\nT1,Петрова,Анна,anna@example.ru\nT2,Петрова,Анна,Anna@Example.ru\n"
    result = await _run(session, w, [ImportFile("teachers.csv", teachers.encode())])
    assert [(p.line, p.column, p.code) for p in result.problems] == [(3, "sourcedId", "DUPLICATE")]  # type: ignore[attr-defined]


async def test_a_thousand_guardians_with_their_children(app_services: object, session: AsyncSession) -> None:
    """The people files at scale: every row checked and applied in one go."""
    w = await build_world(session)
    classes = "sourcedId,academicYear,level,letter\nC,2026/2027,5,А\n"
    children = "sourcedId,lastName,firstName,birthDate,sex,birthCertSeries,birthCertNumber,classSourcedId\n" + "".join(
        f"K{n},Иванов,Пётр,2015-03-14,М,I-АА,{n:06d},C\n" for n in range(1000)
    )
    guardians = "sourcedId,lastName,firstName,phone,childSourcedIds\n" + "".join(
        f"G{n},Иванова,Ольга,+7916{n:07d},K{n}\n" for n in range(1000)
    )
    files = [
        ImportFile(n, c.encode())
        for n, c in (("classes.csv", classes), ("children.csv", children), ("guardians.csv", guardians))
    ]
    result = await _run(session, w, files)
    assert result.problems == []  # type: ignore[attr-defined]
    assert {t.entity: t.created for t in result.summary} == {"classes": 1, "children": 1000, "guardians": 1000}  # type: ignore[attr-defined]


async def test_a_teacher_cannot_teach_two_classes_at_once(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    await add_quarter(session, w.year)
    await session.commit()
    timetable = (
        "sourcedId,classSourcedId,period,weekday,lessonNumber,start,end,subjectSourcedId,teacherSourcedId\n"
        "X1,CL-5A,1,1,1,08:30,09:15,SUBJ-MATH,T-001\n"
        "X2,CL-5B,1,1,1,08:45,09:30,SUBJ-MATH,T-001\n"
    )
    files = [f for f in example_files() if f.name != "timetable.csv"] + [
        ImportFile("timetable.csv", timetable.encode())
    ]
    result = await _run(session, w, files)
    assert [(p.file, p.line, p.column, p.code) for p in result.problems] == [  # type: ignore[attr-defined]
        ("timetable.csv", 3, "teacherSourcedId", "CONFLICT")
    ]


async def test_subjects_and_classes_keep_their_natural_keys(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    session.add_all(
        [
            Subject(school_id=w.school.id, name="Химия"),  # made by hand: the import adopts it
            Subject(school_id=w.school.id, name="Физика", external_id="PHYS"),  # another system's
        ]
    )
    await session.commit()
    subjects = "sourcedId,name\nS1,Алгебра\nS2,Алгебра\nS3,Химия\nS4,Физика\n"
    classes = "sourcedId,academicYear,level,letter\nC1,2026/2027,5,А\nC2,2026/2027,5,а\n"
    files = [ImportFile("subjects.csv", subjects.encode()), ImportFile("classes.csv", classes.encode())]

    result = await _run(session, w, files, dry_run=True)

    problems = [(p.file, p.line, p.column, p.code, p.message) for p in result.problems]  # type: ignore[attr-defined]
    assert problems == [
        ("subjects.csv", 3, "name", "DUPLICATE", "Такой предмет уже в строке 2"),
        ("subjects.csv", 5, "name", "DUPLICATE", "Предмет с таким названием уже есть у другого sourcedId"),
        ("classes.csv", 3, "letter", "DUPLICATE", "Класс 5А уже в строке 2"),
    ]
    # the hand-made subject was taken as S3's, not made again
    [subject_tally] = [t for t in result.summary if t.entity == "subjects"]  # type: ignore[attr-defined]
    assert (subject_tally.created, subject_tally.updated) == (1, 1)
