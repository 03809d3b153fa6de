"""syncGrades: grades at lessons keyed by sourcedId. A new sourcedId is entered as
`enterGrade` enters a grade, a known one corrected as `correctGrade` corrects it (its
history keeps the previous value), an unchanged one left alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import GradeAction, GradeKind, IntegrationScope, LessonStatus
from ediary_gql.db.models.grades import ControlType, Grade, GradeRevision
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import diary_facts
from ediary_gql.services import grades as rules
from ediary_gql.services.roster_import.lookup import by_external_id, roster_links
from ediary_gql.services.school_time import has_started, school_zone
from ediary_gql.services.sync.batch import (
    Action,
    Synced,
    SyncResult,
    begin,
    check_sourced_ids,
    insert_returning,
    insert_rows,
    path,
    referenced,
    refusing_conflicts,
    summarize,
)

KIND = "GRADE"  # RosterLink.kind
DEFAULT_REASON = "Исправлено синхронизацией"
MOVED = "Оценку не переносят на другого ученика или урок: удалите её и поставьте новую под другим sourcedId"
REFUSED = "Синхронизировать оценки могут ответственный за дневник школы и её интеграция с правом grades:write"


@dataclass(frozen=True, slots=True)
class GradeItem:
    sourced_id: str
    child_sourced_id: str
    lesson_sourced_id: str
    value: str
    control_type: str | None = None  # a control type's code (TEST, ORAL, …); None: none
    comment: str | None = None
    reason: str | None = None  # why a known grade is corrected; a default one when None


@dataclass(slots=True)
class _Planned:
    index: int
    item: GradeItem
    child: Child
    lesson: Lesson
    revised: rules.Revised
    grade: Grade | None  # None: a new one
    link: RosterLink | None  # the sourcedId's link, if it has one
    reason: str = ""


async def sync_grades(
    session: AsyncSession, *, actor: Actor, school_id: int, items: Sequence[GradeItem], dry_run: bool = False
) -> SyncResult:
    begin(actor, school_id=school_id, items=items, scope=IntegrationScope.GRADES_WRITE, refused=REFUSED)
    errors = ErrorCollector()
    bad = check_sourced_ids(errors, items)
    children = await by_external_id(session, Child, school_id, referenced(items, "child_sourced_id"))
    lessons = await by_external_id(session, Lesson, school_id, referenced(items, "lesson_sourced_id"))
    links = await roster_links(session, school_id, KIND, referenced(items, "sourced_id"))
    grades = await _locked(session, school_id, [link.target_id for link in links.values()])
    controls = await _control_types(session, school_id, {i.control_type for i in items if i.control_type})
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
    for i, item in enumerate(items):
        child = children.get(item.child_sourced_id)
        lesson = lessons.get(item.lesson_sourced_id)
        if child is None:
            errors.add(path(i, "childSourcedId"), ErrorCode.NOT_FOUND, "Ученик с таким sourcedId не найден в школе")
        if lesson is None:
            errors.add(path(i, "lessonSourcedId"), ErrorCode.NOT_FOUND, "Урок с таким sourcedId не найден в школе")
        link = links.get(item.sourced_id)
        grade = grades.get(link.target_id) if link is not None else None
        known = child is not None and lesson is not None and i not in bad
        if known and grade is None:
            # a new grade: as enterGrade, at a lesson held, of a child of its class that day
            assert child is not None and lesson is not None  # noqa: PT018, S101 - known
            problem = rules.lesson_refusal(
                lesson,
                started=lesson.status == LessonStatus.SCHEDULED and has_started(zone, lesson.date, lesson.start_time),
            )
            if problem is not None:
                errors.add(path(i, "lessonSourcedId"), ErrorCode.INVALID_STATE, problem)
            if (child.id, lesson.class_id, lesson.date) not in enrolled:
                errors.add(path(i, "childSourcedId"), ErrorCode.NOT_FOUND, "Ученик не учится в классе в день урока")
        elif known and grade is not None:
            # a known one: as correctGrade, a grade still there, of the same child and lesson
            assert child is not None and lesson is not None  # noqa: PT018, S101 - known
            if grade.deleted_at is not None:
                errors.add(path(i, "sourcedId"), ErrorCode.INVALID_STATE, rules.GRADE_DELETED)
                known = False
            elif grade.child_id != child.id or grade.lesson_id != lesson.id:
                errors.add(
                    path(i, "childSourcedId" if grade.child_id != child.id else "lessonSourcedId"),
                    ErrorCode.INVALID,
                    MOVED,
                )
                known = False
        numeric = rules.check_value(errors, item.value, path(i, "value"))
        control = controls.get(item.control_type) if item.control_type else None
        weight = (
            rules.weight_of(errors, control, school_id, path(i, "controlType"))
            if item.control_type
            else Decimal("1.00")
        )
        comment = rules.clean_comment(errors, item.comment, path(i, "comment"))
        if not known or child is None or lesson is None:
            continue
        revised = rules.Revised(item.value, numeric, comment, control.id if control else None, weight)
        plan = _Planned(i, item, child, lesson, revised, grade, link)
        if grade is not None and revised.changes(grade):
            # a correction, with its reason
            plan.reason = rules.clean_reason(errors, item.reason or DEFAULT_REASON, path(i, "reason"))
        planned.append(plan)
    errors.raise_if_any()

    return SyncResult(applied=not dry_run, items=await _write(session, actor, school_id, planned))


async def _write(session: AsyncSession, actor: Actor, school_id: int, planned: list[_Planned]) -> list[Synced]:
    """Each table's rows in one statement: the new grades, their history, their links."""
    new = [p for p in planned if p.grade is None]
    periods = await rules.periods_on(session, {(p.lesson.class_id, p.lesson.date) for p in new})
    rows = [
        {
            "school_id": school_id,
            "child_id": p.child.id,
            "lesson_id": p.lesson.id,
            "subject_id": p.lesson.subject_id,
            "class_id": p.lesson.class_id,
            "period_id": periods.get((p.lesson.class_id, p.lesson.date)),
            "kind": GradeKind.REGULAR,
            "value": p.revised.value,
            "numeric_value": p.revised.numeric_value,
            "control_type_id": p.revised.control_type_id,
            "weight": p.revised.weight,
            "comment": p.revised.comment,
            "teacher_id": actor.user_id,
            "graded_on": p.lesson.date,
        }
        for p in new
    ]
    result: dict[int, Synced] = {}
    revisions: list[dict[str, object]] = []
    written: list[Grade] = []  # the corrected grades, written at once
    links: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    async with refusing_conflicts(session):
        # rows alike but for their id are interchangeable: each item takes one of its kind
        made: dict[tuple[object, ...], list[int]] = {}
        for found in await insert_returning(session, Grade, rows, *_KEY):
            made.setdefault(tuple(found[1:]), []).append(found[0])
        for p, row in zip(new, rows, strict=True):
            grade = Grade(id=made[tuple(row[k] for k in _KEY)].pop(0), **row)  # what the notices read
            revisions.append(rules.created_revision(grade, changed_by_id=actor.user_id))
            rules.announce(session, actor, grade, GradeAction.CREATED, old_value=None, school_id=school_id)
            if p.link is None:
                links.append(
                    {"school_id": school_id, "kind": KIND, "external_id": p.item.sourced_id, "target_id": grade.id}
                )
            else:  # its grade is gone: the new one
                p.link.target_id = grade.id
            changes.append({"sourced_id": p.item.sourced_id, "grade_id": grade.id, "after": rules.snapshot(grade)})
            result[p.index] = Synced(p.index, p.item.sourced_id, Action.CREATED, grade.id)
        for p in planned:
            if p.grade is None:
                continue
            changed = p.revised.changes(p.grade)
            if changed:
                # as correctGrade: the previous value kept in the grade's history
                before = rules.snapshot(p.grade)
                revisions.append(
                    rules.corrected_revision(p.grade, p.revised, reason=p.reason, changed_by_id=actor.user_id)
                )
                rules.revise(p.grade, p.revised, written_later=True)
                written.append(p.grade)
                rules.announce(
                    session, actor, p.grade, GradeAction.CORRECTED, old_value=str(before["value"]), school_id=school_id
                )
                changes.append(
                    {
                        "sourced_id": p.item.sourced_id,
                        "grade_id": p.grade.id,
                        "before": before,
                        "after": rules.snapshot(p.grade),
                    }
                )
            result[p.index] = Synced(
                p.index, p.item.sourced_id, Action.UPDATED if changed else Action.UNCHANGED, p.grade.id
            )
        await rules.write_revised(session, written)
        await insert_rows(session, GradeRevision, revisions)
        await insert_rows(session, RosterLink, links)
        items = [result[i] for i in sorted(result)]
        summarize(session, actor, school_id=school_id, action="syncGrades", items=items, changes=changes)
    return items


_KEY = ("child_id", "lesson_id", "value", "comment", "control_type_id")


async def _locked(session: AsyncSession, school_id: int, ids: list[int]) -> dict[int, Grade]:
    """The synced grades, locked: a correction at the same time by hand waits (as correctGrade's
    lock). The school's links name its own grades: one partition on PostgreSQL."""
    if not ids:
        return {}
    rows = await session.scalars(select(Grade).where(Grade.school_id == school_id, Grade.id.in_(ids)).with_for_update())
    return {row.id: row for row in rows}


async def _control_types(session: AsyncSession, school_id: int, codes: set[str | None]) -> dict[str, ControlType]:
    """By code, the school's own before the portal-wide one of the same code."""
    if not codes:
        return {}
    rows = await session.scalars(
        select(ControlType).where(
            ControlType.code.in_(codes), or_(ControlType.school_id == school_id, ControlType.school_id.is_(None))
        )
    )
    found: dict[str, ControlType] = {}
    for row in rows:
        if row.code not in found or row.school_id is not None:
            found[row.code] = row
    return found
