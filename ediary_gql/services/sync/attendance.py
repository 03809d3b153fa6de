"""syncAttendance: attendance marks keyed by sourcedId, each as markAttendance writes a
mark (the same checks, the guardians told of an absence or lateness, one audit entry
and the events per lesson). A child's mark at a lesson made by hand, with no sourcedId
yet, is taken over by the item that names that child and lesson."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import AttendanceStatus, IntegrationScope, LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import attendance as rules
from ediary_gql.services import diary_facts
from ediary_gql.services.roster_import.lookup import by_external_id, chunks, roster_links
from ediary_gql.services.school_time import has_started, school_zone
from ediary_gql.services.sync import lookup
from ediary_gql.services.sync.batch import (
    Action,
    Synced,
    SyncResult,
    begin,
    check_sourced_ids,
    insert_rows,
    path,
    referenced,
    refusing_conflicts,
    summarize,
)

KIND = "ATTENDANCE"  # RosterLink.kind
REFUSED = "Синхронизировать посещаемость могут ответственный за дневник школы и её интеграция с правом attendance:write"


@dataclass(frozen=True, slots=True)
class MarkItem:
    sourced_id: str
    child_sourced_id: str
    lesson_sourced_id: str
    status: AttendanceStatus
    minutes_late: int | None = None
    reason: str | None = None


@dataclass(slots=True)
class _Planned:
    index: int
    sourced_id: str
    lesson: Lesson
    mark: rules.Mark
    row: Attendance | None  # the mark now: None for a new one
    link: RosterLink | None  # the sourcedId's link, if it has one


async def sync_attendance(
    session: AsyncSession, *, actor: Actor, school_id: int, items: Sequence[MarkItem], dry_run: bool = False
) -> SyncResult:
    begin(actor, school_id=school_id, items=items, scope=IntegrationScope.ATTENDANCE_WRITE, refused=REFUSED)
    errors = ErrorCollector()
    bad = check_sourced_ids(errors, items)
    children = await by_external_id(session, Child, school_id, referenced(items, "child_sourced_id"))
    lessons = await _locked_lessons(session, school_id, referenced(items, "lesson_sourced_id"))
    links = await roster_links(session, school_id, KIND, referenced(items, "sourced_id"))
    pairs = {
        (lessons[i.lesson_sourced_id].id, children[i.child_sourced_id].id)
        for i in items
        if i.lesson_sourced_id in lessons and i.child_sourced_id in children
    }
    rows = await _marks(session, school_id, [link.target_id for link in links.values()], pairs)
    by_id = {row.id: row for row in rows}
    by_pair = {(row.lesson_id, row.child_id): row for row in rows}
    # mark id → the sourcedId it is synced under
    held = dict(await lookup.attendance_sourced_ids(session, [row.id for row in rows]))
    zone = await school_zone(session, school_id)
    enrolled = await diary_facts.enrolled_many(
        session,
        {
            (children[i.child_sourced_id].id, lessons[i.lesson_sourced_id].class_id, lessons[i.lesson_sourced_id].date)
            for i in items
            if i.child_sourced_id in children and i.lesson_sourced_id in lessons
        },
    )

    planned: list[_Planned] = []
    seen: dict[tuple[int, int], int] = {}
    for i, item in enumerate(items):
        child = children.get(item.child_sourced_id)
        lesson = lessons.get(item.lesson_sourced_id)
        if child is None:
            errors.add(path(i, "childSourcedId"), ErrorCode.NOT_FOUND, "Ученик с таким sourcedId не найден в школе")
        if lesson is None:
            errors.add(path(i, "lessonSourcedId"), ErrorCode.NOT_FOUND, "Урок с таким sourcedId не найден в школе")
        mark = rules.Mark(0 if child is None else child.id, item.status, item.minutes_late, item.reason)
        if child is None or lesson is None or i in bad:
            rules.check_mark(errors, mark, path(i), enrolled=True, child_field="childSourcedId")
            continue
        key = (lesson.id, child.id)
        if key in seen:
            errors.add(
                path(i, "childSourcedId"),
                ErrorCode.DUPLICATE,
                f"Ученик отмечен на этом уроке дважды: и в items.{seen[key]}",
            )
            continue
        seen[key] = i
        link = links.get(item.sourced_id)
        row = by_id.get(link.target_id) if link is not None else None
        if row is not None and (row.lesson_id, row.child_id) != key:
            errors.add(
                path(i, "childSourcedId" if row.child_id != child.id else "lessonSourcedId"),
                ErrorCode.INVALID,
                "Отметку не переносят на другого ученика или урок: у новой отметки — свой sourcedId",
            )
            continue
        if (
            row is None
            and (row := by_pair.get(key)) is not None
            and held.get(row.id, item.sourced_id) != item.sourced_id
        ):
            errors.add(
                path(i, "sourcedId"),
                ErrorCode.CONFLICT,
                f"Отметка ученика на этом уроке уже синхронизирована под sourcedId «{held[row.id]}»",
            )
            continue
        probe = ErrorCollector()
        tidy = rules.check_mark(probe, mark, path(i), enrolled=True)
        if row is not None and not probe and rules.unchanged(row, tidy):
            planned.append(_Planned(i, item.sourced_id, lesson, tidy, row, link))
            continue
        # a mark to write: as markAttendance, at a lesson held, of a child of its class that day
        problem = rules.lesson_refusal(
            lesson,
            started=lesson.status == LessonStatus.SCHEDULED and has_started(zone, lesson.date, lesson.start_time),
        )
        if problem is not None:
            errors.add(path(i, "lessonSourcedId"), ErrorCode.INVALID_STATE, problem)
        tidy = rules.check_mark(
            errors,
            mark,
            path(i),
            enrolled=(child.id, lesson.class_id, lesson.date) in enrolled,
            child_field="childSourcedId",
        )
        planned.append(_Planned(i, item.sourced_id, lesson, tidy, row, link))
    errors.raise_if_any()

    return SyncResult(applied=not dry_run, items=await _write(session, actor, school_id, planned))


async def _write(session: AsyncSession, actor: Actor, school_id: int, planned: list[_Planned]) -> list[Synced]:
    batch: dict[int, tuple[Lesson, list[rules.Mark]]] = {}
    existing: dict[tuple[int, int], Attendance] = {}
    for p in planned:
        if p.row is not None:
            existing[(p.lesson.id, p.mark.child_id)] = p.row
            if rules.unchanged(p.row, p.mark):
                continue
        batch.setdefault(p.lesson.id, (p.lesson, []))[1].append(p.mark)
    # taking over a mark made by hand gives it its sourcedId: an update
    actions = {
        p.index: Action.CREATED
        if p.row is None
        else Action.UPDATED
        if p.link is None or not rules.unchanged(p.row, p.mark)
        else Action.UNCHANGED
        for p in planned
    }
    async with refusing_conflicts(session):
        changed = (await rules.write_marks(session, actor, list(batch.values()), existing, audited=False)).changes
        new = await _marks(session, school_id, [], {(p.lesson.id, p.mark.child_id) for p in planned if p.row is None})
        ids = {(row.lesson_id, row.child_id): row.id for row in new} | {k: row.id for k, row in existing.items()}
        items: list[Synced] = []
        links: list[dict[str, object]] = []
        for p in planned:
            target = ids[(p.lesson.id, p.mark.child_id)]
            if p.link is None:
                links.append({"school_id": school_id, "kind": KIND, "external_id": p.sourced_id, "target_id": target})
            elif p.link.target_id != target:  # its mark is gone (its lesson was deleted): the new one
                p.link.target_id = target
            items.append(Synced(p.index, p.sourced_id, actions[p.index], target))
        await insert_rows(session, RosterLink, links)
        summarize(
            session,
            actor,
            school_id=school_id,
            action="syncAttendance",
            items=items,
            changes=[{"lesson_id": lesson.id, "changes": marks} for lesson, marks in changed],
        )
    return items


async def _locked_lessons(session: AsyncSession, school_id: int, sourced_ids: set[str]) -> dict[str, Lesson]:
    """The lessons by sourcedId, locked as markAttendance locks its lesson: two markings of
    one lesson at once serialize instead of colliding on (child, lesson)."""
    found: dict[str, Lesson] = {}
    for chunk in chunks(sourced_ids):
        rows = await session.scalars(
            select(Lesson).where(Lesson.school_id == school_id, Lesson.external_id.in_(chunk)).with_for_update()
        )
        found.update({row.external_id: row for row in rows if row.external_id})
    return found


async def _marks(
    session: AsyncSession, school_id: int, ids: list[int], pairs: set[tuple[int, int]]
) -> list[Attendance]:
    """Marks of the school (one partition) by id, and by (lesson id, child id)."""
    found: dict[int, Attendance] = {}
    for chunk in chunks(ids):
        found.update(
            {
                row.id: row
                for row in await session.scalars(
                    select(Attendance).where(Attendance.school_id == school_id, Attendance.id.in_(chunk))
                )
            }
        )
    for chunk in chunks(pairs):
        rows = await session.scalars(
            select(Attendance).where(
                Attendance.school_id == school_id, tuple_(Attendance.lesson_id, Attendance.child_id).in_(chunk)
            )
        )
        found.update({row.id: row for row in rows})
    return list(found.values())
