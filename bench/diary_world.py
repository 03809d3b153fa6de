"""What `bench diary` adds to a scale school so that every selection reads real data.

The scale school has classes of 25, homework without files, no homework marked done
and grade histories of one step each. For the bench's class and child this adds,
once (each step looks for its own rows first):

- classmates up to 30 children, each with a parent, and the grades (with their
  history) and attendance of one of the first classmates copied, so the journal
  and markAttendance see a full class;
- one or two files on every homework of the class from three weeks before the
  diary's week to two weeks after it;
- every other homework of the week marked done by the child's parent;
- every other grade of the child's week corrected, so its history has two steps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import GradeAction
from ediary_gql.db.models.grades import Grade, GradeRevision
from ediary_gql.db.models.homework import Homework, HomeworkAttachment, HomeworkCompletion
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD
from ediary_gql.demo.bulk import insert_ids, insert_rows, table_of
from ediary_gql.demo.common import user_row
from ediary_gql.demo.names import NameMaker
from ediary_gql.demo.school_calendar import YEAR_START

CLASS_SIZE = 30
FILES_BEFORE, FILES_AFTER = dt.timedelta(days=21), dt.timedelta(days=14)
_MARK = "BENCH"  # external ids and e-mails of what this module adds


async def furnish(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    class_id: int,
    child_id: int,
    parent_email: str,
    week: tuple[dt.date, dt.date],
) -> dict[str, int]:
    """Add what is missing (one transaction); returns how many rows of each kind were added."""
    async with session_factory() as session, session.begin():
        added = {"children": await _fill_class(session, class_id)}
        added["homework files"] = await _attach_files(session, class_id, week)
        parent_id = int(await session.scalar(select(User.id).where(User.email == parent_email)) or 0)
        added["homework done"] = await _mark_done(session, child_id, parent_id, week)
        added["grades corrected"] = await _correct_grades(session, child_id, week)
    return {kind: n for kind, n in added.items() if n}


async def _fill_class(session: AsyncSession, class_id: int) -> int:
    classmates = list(
        (
            await session.scalars(
                select(Enrollment.child_id)
                .where(Enrollment.class_id == class_id, Enrollment.ends_on.is_(None))
                .order_by(Enrollment.child_id)
            )
        ).all()
    )
    missing = CLASS_SIZE - len(classmates)
    if missing <= 0:
        return 0
    school_id, level, inn = (
        await session.execute(
            select(SchoolClass.school_id, SchoolClass.level, School.inn)
            .join(School, School.id == SchoolClass.school_id)
            .where(SchoolClass.id == class_id)
        )
    ).one()
    domain = f"{inn}.scale.ediary.ru"
    names = NameMaker(90_000 + class_id)
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    first = len(classmates) + 1
    keys = [f"{_MARK}-{class_id}-{n:02d}" for n in range(first, first + missing)]
    parents, children = [], []
    for key in keys:
        family, sex = names.family(), names.sex()
        child = names.child(sex, family)
        parent = names.adult(names.sex(), family)
        parents.append(user_row(parent, password_hash=password_hash, email=f"{key.lower()}-parent@{domain}"))
        children.append(
            {
                "last_name": child.last_name,
                "first_name": child.first_name,
                "middle_name": child.middle_name,
                "birth_date": names.birth_date(level, YEAR_START),
                "sex": sex,
                "school_id": school_id,
                "external_id": key,
            }
        )
    parent_ids = await insert_ids(session, User, parents)
    child_ids = await insert_ids(session, Child, children)
    await insert_rows(
        session,
        Enrollment,
        [{"child_id": c, "class_id": class_id, "starts_on": YEAR_START, "ends_on": None} for c in child_ids],
    )
    await insert_rows(
        session,
        Guardianship,
        [{"parent_id": p, "child_id": c, "application_id": None} for p, c in zip(parent_ids, child_ids, strict=True)],
    )
    for new, source in zip(child_ids, classmates, strict=False):  # a classmate's record, as if theirs
        await _copy_record(session, class_id, source=source, to=new)
    return missing


async def _copy_record(session: AsyncSession, class_id: int, *, source: int, to: int) -> None:
    grades, marks, revisions = table_of(Grade), table_of(Attendance), table_of(GradeRevision)
    columns = [c.name for c in grades.columns if c.name not in ("id", "child_id")]
    first_new = int(await session.scalar(select(func.coalesce(func.max(grades.c.id), 0))) or 0)
    await session.execute(
        insert(grades).from_select(
            ["child_id", *columns],
            select(literal(to), *(grades.c[c] for c in columns)).where(
                grades.c.child_id == source, grades.c.class_id == class_id, grades.c.deleted_at.is_(None)
            ),
        )
    )
    await session.execute(
        insert(revisions).from_select(
            ["school_id", "grade_id", "action", "new_value", "changed_by_id", "changed_at"],
            select(
                grades.c.school_id, grades.c.id, literal(GradeAction.CREATED.value), grades.c.value, grades.c.teacher_id
            )
            .add_columns(grades.c.created_at)
            .where(grades.c.child_id == to, grades.c.id > first_new),
        )
    )
    mark_columns = [c.name for c in marks.columns if c.name not in ("id", "child_id")]
    await session.execute(
        insert(marks).from_select(
            ["child_id", *mark_columns],
            select(literal(to), *(marks.c[c] for c in mark_columns)).where(
                marks.c.child_id == source, marks.c.lesson_id.in_(select(Lesson.id).where(Lesson.class_id == class_id))
            ),
        )
    )


async def _attach_files(session: AsyncSession, class_id: int, week: tuple[dt.date, dt.date]) -> int:
    lessons = select(Lesson.id).where(
        Lesson.class_id == class_id, Lesson.date.between(week[0] - FILES_BEFORE, week[1] + FILES_AFTER)
    )
    with_files = select(HomeworkAttachment.homework_id)
    homework = (
        await session.execute(
            select(Homework.id, Homework.created_by_id, Homework.school_id)
            .where(Homework.lesson_id.in_(lessons), Homework.id.not_in(with_files))
            .order_by(Homework.id)
        )
    ).all()
    files = [(hw, owner, school, n) for hw, owner, school in homework for n in range(1 + hw % 2)]
    if not files:
        return 0
    ids = await insert_ids(
        session,
        Attachment,
        [
            {
                "owner_id": owner,
                "file_name": f"задание-{hw}-{n + 1}.pdf",
                "content_type": "application/pdf",
                "size_bytes": 20_000 + hw * 37 % 200_000,
                "sha256": hashlib.sha256(f"{_MARK}:{hw}:{n}".encode()).hexdigest(),
                "storage_key": f"{_MARK.lower()}/homework-{hw}-{n + 1}.pdf",
            }
            for hw, owner, _, n in files
        ],
    )
    await insert_rows(
        session,
        HomeworkAttachment,
        [
            {"school_id": school, "homework_id": hw, "attachment_id": a}
            for (hw, _, school, _), a in zip(files, ids, strict=True)
        ],
    )
    return len(ids)


async def _mark_done(session: AsyncSession, child_id: int, parent_id: int, week: tuple[dt.date, dt.date]) -> int:
    class_lessons = select(Lesson.id).where(
        Lesson.class_id.in_(select(Enrollment.class_id).where(Enrollment.child_id == child_id)),
        Lesson.date.between(*week),
    )
    homework = dict(
        (await session.execute(select(Homework.id, Homework.school_id).where(Homework.lesson_id.in_(class_lessons))))
        .tuples()
        .all()
    )
    done = set(
        await session.scalars(select(HomeworkCompletion.homework_id).where(HomeworkCompletion.child_id == child_id))
    )
    if not parent_id or done & set(homework):
        return 0
    rows = [
        {"school_id": homework[hw], "homework_id": hw, "child_id": child_id, "marked_by_id": parent_id}
        for hw in sorted(homework)[::2]
    ]
    return await insert_rows(session, HomeworkCompletion, rows)


async def _correct_grades(session: AsyncSession, child_id: int, week: tuple[dt.date, dt.date]) -> int:
    grades = (
        await session.execute(
            select(Grade.id, Grade.school_id, Grade.value, Grade.teacher_id, Grade.created_at)
            .where(Grade.child_id == child_id, Grade.graded_on.between(*week), Grade.deleted_at.is_(None))
            .order_by(Grade.id)
        )
    ).all()
    corrected = select(GradeRevision.grade_id).where(
        GradeRevision.grade_id.in_([g.id for g in grades]), GradeRevision.action == GradeAction.CORRECTED
    )
    if not grades or await session.scalar(corrected.limit(1)) is not None:
        return 0
    rows = []
    for grade in grades[::2]:
        new = {"5": "4", "4": "5", "3": "4", "2": "3"}.get(grade.value, grade.value)
        comment = "Исправлено после пересдачи"
        await session.execute(
            update(Grade)
            .where(Grade.id == grade.id)
            .values(value=new, numeric_value=int(new) if new.isdigit() else None, comment=comment)
        )
        rows.append(
            {
                "school_id": grade.school_id,
                "grade_id": grade.id,
                "action": GradeAction.CORRECTED,
                "old_value": grade.value,
                "new_value": new,
                "old_comment": None,
                "new_comment": comment,
                "reason": "Пересдача",
                "changed_by_id": grade.teacher_id,
                "changed_at": grade.created_at + dt.timedelta(days=1),
            }
        )
    return await insert_rows(session, GradeRevision, rows)
