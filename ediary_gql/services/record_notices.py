"""Notices of new records: a grade entered or corrected, homework given, a lesson moved,
cancelled or given by a substitute, lessons added to the timetable. They go to the
child's guardians and the child's own login, through the channels each chose for the
kind (GRADE, HOMEWORK, LESSON), never to the person who made the change.

Services `note` what they changed; the notices are written once, just before the
transaction commits (`events.publish.before_commit`). So a bulk change (a generated
timetable, a whole class graded, homework for a class) yields one grouped notice per
person and kind, and the whole request costs a fixed number of statements whatever
the rows: the enrolments, then the children with their guardians and users, then the
names the service has not read already (`known_names`), one statement each, and the
notices written by `notify_many`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.enums import LessonStatus, NotificationKind
from ediary_gql.db.models.grades import ControlType, Grade
from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import before_commit
from ediary_gql.services.notifications import Notice, notify_many

_PENDING = "ediary.record_notices"
_NAMES = "ediary.record_notice_names"
# A grouped notice lists this many records, then says how many more there are.
LISTED_MAX = 5
BODY_MAX = 2000


@dataclass(frozen=True)
class RecordNote:
    """One changed record, and whom it concerns: `child_ids`, or the children enrolled in
    `class_id` on `on_date` (homework, lessons). `text` may hold `{subject}` and
    `{control_type}`, filled in with their names when the notices are written."""

    kind: NotificationKind
    actor_user_id: int | None
    text: str
    payload: dict[str, Any]
    child_ids: tuple[int, ...] = ()
    class_id: int | None = None
    on_date: dt.date | None = None
    subject_id: int | None = None
    control_type_id: int | None = None


@dataclass
class _Group:
    """What one person is told of one kind in one transaction."""

    lines: list[str] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)


# Titles per kind: (one record, several records).
TITLES: dict[NotificationKind, tuple[str, str]] = {
    NotificationKind.GRADE: ("Новая оценка", "Новые оценки"),
    NotificationKind.HOMEWORK: ("Новое домашнее задание", "Новые домашние задания"),
    NotificationKind.LESSON: ("Изменение в расписании", "Изменения в расписании"),
}


def note(session: AsyncSession, record: RecordNote) -> None:
    """Remember `record` for this transaction's notices (written just before commit)."""
    pending: list[RecordNote] = session.info.setdefault(_PENDING, [])
    pending.append(record)

    async def send() -> None:
        await _send(session, session.info.pop(_PENDING, []))

    before_commit(session, _PENDING, send)


def known_names(session: AsyncSession, *, subjects: Mapping[int, str], control_types: Mapping[int, str]) -> None:
    """Names of subjects and control types the service has read already: the notices'
    texts take them from here instead of reading them again."""
    known: dict[str, dict[int, str]] = session.info.setdefault(_NAMES, {"subjects": {}, "control_types": {}})
    known["subjects"].update(subjects)
    known["control_types"].update(control_types)


def day(value: dt.date) -> str:
    return f"{value:%d.%m.%Y}"


def hhmm(value: dt.time) -> str:
    return f"{value:%H:%M}"


# --- what each change says ------------------------------------------------------


def grade_changed(
    session: AsyncSession, *, actor_user_id: int | None, grade: Grade, old_value: str | None, action: str
) -> None:
    """`action`: "entered", "corrected" or "deleted" (a correction of a mistake too)."""
    when = f" за {day(grade.graded_on)}"
    control = " ({control_type})" if grade.control_type_id else ""
    if action == "entered":
        text = f"«{{subject}}»: {grade.value}{when}{control}"
    elif action == "corrected":
        changed = f"{old_value} → {grade.value}" if old_value != grade.value else grade.value
        text = f"Исправлена оценка — «{{subject}}»: {changed}{when}{control}"
    else:
        text = f"Удалена оценка — «{{subject}}»: {old_value}{when}"
    note(
        session,
        RecordNote(
            kind=NotificationKind.GRADE,
            actor_user_id=actor_user_id,
            text=text,
            payload={"grade_id": grade.id, "subject_id": grade.subject_id, "action": action},
            child_ids=(grade.child_id,),
            subject_id=grade.subject_id,
            control_type_id=grade.control_type_id,
        ),
    )


def homework_given(session: AsyncSession, *, actor_user_id: int | None, homework: Homework, lesson: Lesson) -> None:
    task = homework.text if len(homework.text) <= 200 else homework.text[:199] + "…"
    note(
        session,
        RecordNote(
            kind=NotificationKind.HOMEWORK,
            actor_user_id=actor_user_id,
            text=f"«{{subject}}», урок {day(lesson.date)}: {task} — сдать до {day(homework.due_on)}",
            payload={"homework_id": homework.id, "lesson_id": lesson.id, "subject_id": homework.subject_id},
            class_id=homework.class_id,
            on_date=lesson.date,
            subject_id=homework.subject_id,
        ),
    )


@dataclass(frozen=True)
class LessonBefore:
    date: dt.date
    start_time: dt.time
    status: LessonStatus
    substitute_teacher_id: int | None

    @staticmethod
    def of(lesson: Lesson) -> LessonBefore:
        return LessonBefore(lesson.date, lesson.start_time, lesson.status, lesson.substitute_teacher_id)


def lesson_changed(session: AsyncSession, *, actor_user_id: int | None, lesson: Lesson, before: LessonBefore) -> None:
    """A lesson moved, cancelled, restored or given to a substitute; other edits (topic,
    room) are not news for families."""
    was = f"{day(before.date)} в {hhmm(before.start_time)}"
    now = f"{day(lesson.date)} в {hhmm(lesson.start_time)}"
    if lesson.status == LessonStatus.CANCELLED and before.status != LessonStatus.CANCELLED:
        text, change = f"«{{subject}}»: урок {was} отменён", "cancelled"
    elif lesson.status == LessonStatus.SCHEDULED and before.status == LessonStatus.CANCELLED:
        text, change = f"«{{subject}}»: урок {now} снова в расписании", "restored"
    elif lesson.status == LessonStatus.CANCELLED:
        return
    elif (lesson.date, lesson.start_time) != (before.date, before.start_time):
        text, change = f"«{{subject}}»: урок {was} перенесён на {now}", "moved"
    elif lesson.substitute_teacher_id != before.substitute_teacher_id:
        if lesson.substitute_teacher_id is None:
            text = f"«{{subject}}»: урок {now} проведёт свой учитель, замена отменена"
        else:
            text = f"«{{subject}}»: урок {now} проведёт учитель на замене"
        change = "substituted"
    else:
        return
    # Both days' classes are the same class; a move across dates reaches who is enrolled then.
    note(
        session,
        RecordNote(
            kind=NotificationKind.LESSON,
            actor_user_id=actor_user_id,
            text=text,
            payload={"lesson_id": lesson.id, "subject_id": lesson.subject_id, "change": change},
            class_id=lesson.class_id,
            on_date=lesson.date,
            subject_id=lesson.subject_id,
        ),
    )


def lessons_added(session: AsyncSession, *, actor_user_id: int | None, lessons: Sequence[Lesson]) -> None:
    """Lessons added, generated from a timetable or by hand: one line each, one grouped
    notice per person."""
    for lesson in sorted(lessons, key=lambda item: (item.date, item.start_time)):
        note(
            session,
            RecordNote(
                kind=NotificationKind.LESSON,
                actor_user_id=actor_user_id,
                text=f"Новый урок — «{{subject}}»: {day(lesson.date)} в {hhmm(lesson.start_time)}",
                payload={"lesson_id": lesson.id, "subject_id": lesson.subject_id, "change": "added"},
                class_id=lesson.class_id,
                on_date=lesson.date,
                subject_id=lesson.subject_id,
            ),
        )


# --- writing them -----------------------------------------------------------------


async def _send(session: AsyncSession, records: Sequence[RecordNote]) -> None:
    if not records:
        return
    by_class = await _enrolled(session, {(r.class_id, r.on_date) for r in records if r.class_id and r.on_date})
    concerned: list[tuple[RecordNote, tuple[int, ...]]] = []
    for record in records:
        child_ids = record.child_ids
        if record.class_id is not None and record.on_date is not None:
            child_ids = tuple(dict.fromkeys((*child_ids, *by_class.get((record.class_id, record.on_date), ()))))
        if child_ids:
            concerned.append((record, child_ids))
    if not concerned:
        return
    all_children = {c for _, ids in concerned for c in ids}
    children, guardians, several, users = await _people(session, all_children)
    names = await _names(session, [r for r, _ in concerned])

    groups: dict[tuple[int, NotificationKind], _Group] = defaultdict(_Group)
    for record, child_ids in concerned:
        text = record.text.format(**names.get(id(record), {}))
        # whom this record concerns, and for which of their children (one line per
        # person: a parent of two children in a class hears of its homework once)
        whose: dict[int, list[Child]] = defaultdict(list)
        for child_id in child_ids:
            child = children.get(child_id)
            if child is None:
                continue
            recipients = [*guardians.get(child_id, ()), *([child.user_id] if child.user_id else [])]
            for user_id in dict.fromkeys(recipients):
                if user_id != record.actor_user_id:
                    whose[user_id].append(child)
        for user_id, kids in whose.items():
            line = f"{', '.join(k.first_name for k in kids)}: {text}" if several.get(user_id) else text
            group = groups[(user_id, record.kind)]
            group.lines.append(line)
            ids = {"child_id": kids[0].id} if len(kids) == 1 else {"child_ids": [k.id for k in kids]}
            group.payloads.append({**record.payload, **ids})
    if not groups:
        return
    notices = [
        _notice(users[user_id], kind, group)
        for (user_id, kind), group in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].value))
        if user_id in users
    ]
    await notify_many(session, notices)


async def _people(
    session: AsyncSession, child_ids: set[int]
) -> tuple[dict[int, Child], dict[int, list[int]], dict[int, bool], dict[int, User]]:
    """The children, each one's guardians, whether a guardian has more than one child (a
    parent of several is told whose record it is), and the users among them all (the
    guardians and the children's own logins): one statement, a row per (child, guardian)."""
    own, parent = aliased(User), aliased(User)
    others = aliased(Guardianship)
    kids = select(func.count(others.child_id)).where(others.parent_id == Guardianship.parent_id).scalar_subquery()
    rows = await session.execute(
        select(Child, own, Guardianship.parent_id, parent, kids)
        .outerjoin(own, own.id == Child.user_id)
        .outerjoin(Guardianship, Guardianship.child_id == Child.id)
        .outerjoin(parent, parent.id == Guardianship.parent_id)
        .where(Child.id.in_(child_ids))
    )
    children: dict[int, Child] = {}
    guardians: dict[int, list[int]] = defaultdict(list)
    several: dict[int, bool] = {}
    users: dict[int, User] = {}
    for child, login, parent_id, guardian, count in rows.all():
        children[child.id] = child
        if login is not None:
            users[login.id] = login
        if parent_id is not None and guardian is not None:
            guardians[child.id].append(parent_id)
            several[parent_id] = int(count or 0) > 1
            users[guardian.id] = guardian
    return children, guardians, several, users


def _notice(user: User, kind: NotificationKind, group: _Group) -> Notice:
    one, many = TITLES[kind]
    if len(group.lines) == 1:
        return Notice(user=user, kind=kind, title=one, body=group.lines[0], payload=group.payloads[0])
    listed = group.lines[:LISTED_MAX]
    more = len(group.lines) - len(listed)
    body = "\n".join(listed) + (f"\n… и ещё {more}" if more else "")
    return Notice(
        user=user,
        kind=kind,
        title=f"{many} ({len(group.lines)})",
        body=body[:BODY_MAX],
        payload={"count": len(group.lines), "items": group.payloads[:LISTED_MAX]},
    )


async def _enrolled(
    session: AsyncSession, pairs: Iterable[tuple[int | None, dt.date | None]]
) -> dict[tuple[int, dt.date], list[int]]:
    """The children enrolled in each (class, date), in one statement for all pairs."""
    wanted = [(c, d) for c, d in pairs if c is not None and d is not None]
    if not wanted:
        return {}
    class_ids = {c for c, _ in wanted}
    first, last = min(d for _, d in wanted), max(d for _, d in wanted)
    rows = (
        await session.execute(
            select(Enrollment.class_id, Enrollment.child_id, Enrollment.starts_on, Enrollment.ends_on).where(
                Enrollment.class_id.in_(class_ids),
                Enrollment.starts_on <= last,
                or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= first),
            )
        )
    ).all()
    found: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    for class_id, on_date in wanted:
        for row_class, child_id, starts_on, ends_on in rows:
            if row_class == class_id and starts_on <= on_date and (ends_on is None or ends_on >= on_date):
                found[(class_id, on_date)].append(child_id)
    return found


async def _names(session: AsyncSession, records: Sequence[RecordNote]) -> dict[int, dict[str, str]]:
    """The subject and control type names each record's text names, keyed by the record."""
    known: dict[str, dict[int, str]] = session.info.pop(_NAMES, {})  # of this transaction only
    subjects: dict[int, str] = dict(known.get("subjects", {}))
    controls: dict[int, str] = dict(known.get("control_types", {}))
    subject_ids = {r.subject_id for r in records if r.subject_id is not None} - subjects.keys()
    control_ids = {r.control_type_id for r in records if r.control_type_id is not None} - controls.keys()
    if subject_ids:
        subjects |= dict(
            (await session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(subject_ids)))).all()
        )
    if control_ids:
        controls |= dict(
            (
                await session.execute(select(ControlType.id, ControlType.name).where(ControlType.id.in_(control_ids)))
            ).all()
        )
    out: dict[int, dict[str, str]] = {}
    for record in records:
        out[id(record)] = {
            "subject": subjects.get(record.subject_id, "предмет") if record.subject_id else "",
            "control_type": controls.get(record.control_type_id, "") if record.control_type_id else "",
        }
    return out
