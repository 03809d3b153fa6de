"""Grades: entered, corrected (the previous value kept in history) and deleted (softly,
with a reason); final grades for a period or a year; averages computed in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, and_, bindparam, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import GradeAction, GradeKind, IntegrationScope, LessonStatus
from ediary_gql.db.models.grades import GRADE_VALUES, ControlType, Grade, GradeRevision
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import GradeChanged
from ediary_gql.services import audit, diary_facts, record_notices
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.school_time import has_started, school_today

COMMENT_MAX = 1000
REASON_MAX = 1000
NUMERIC = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_CENTS = Decimal("0.01")
GRADE_DELETED = "Оценка удалена"


@dataclass(frozen=True, slots=True)
class GradeData:
    child_id: int
    value: str
    kind: GradeKind = GradeKind.REGULAR
    lesson_id: int | None = None  # REGULAR: the lesson it is given at
    subject_id: int | None = None  # finals
    period_id: int | None = None  # PERIOD_FINAL
    class_id: int | None = None  # YEAR_FINAL
    control_type_id: int | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class GradeCorrection:
    grade_id: int
    reason: str
    value: str | None = None  # None: unchanged
    comment: str | None = None  # None: unchanged; "" clears it
    control_type_id: int | None = None  # None: unchanged


# audit entries are named after the mutations that make them
_AUDIT_ACTIONS = {
    GradeAction.CREATED: "enterGrade",
    GradeAction.CORRECTED: "correctGrade",
    GradeAction.DELETED: "deleteGrade",
}


async def enter_grade(session: AsyncSession, *, actor: Actor, data: GradeData) -> Grade:
    # A child is looked for only among the class's own (below): an ID of no child and one
    # of another school's child get the same answer.
    errors = ErrorCollector()
    lesson: Lesson | None = None
    school_class: SchoolClass | None = None
    subject_id: int | None = None
    period_id: int | None = None
    graded_on: dt.date | None = None  # a lesson's date, or (final grades) the school's today

    facts: _AtLesson | None = None
    if data.kind == GradeKind.REGULAR:
        if data.lesson_id is None:
            raise DomainError(ErrorCode.REQUIRED, "Укажите урок, на котором поставлена оценка", field="lessonId")
        facts = await _at_lesson(session, actor=actor, lesson_id=data.lesson_id, data=data)
        lesson, school_class = facts.lesson, facts.school_class
        subject_id, graded_on = lesson.subject_id, lesson.date
        problem = lesson_refusal(
            lesson,
            started=lesson.status == LessonStatus.SCHEDULED
            and has_started(facts.timezone, lesson.date, lesson.start_time),
        )
        if problem is not None:
            errors.add("lessonId", ErrorCode.INVALID_STATE, problem)
        period_id = facts.period_id
    else:
        if data.subject_id is None:
            errors.add("subjectId", ErrorCode.REQUIRED, "Укажите предмет итоговой оценки")
        subject_id = data.subject_id
        if data.kind == GradeKind.PERIOD_FINAL:
            period = await session.get(Period, data.period_id) if data.period_id is not None else None
            if period is None:
                code = ErrorCode.REQUIRED if data.period_id is None else ErrorCode.NOT_FOUND
                raise DomainError(code, "Укажите период итоговой оценки", field="periodId")
            period_id = period.id
            school_class = await _class_of_child_in_year(session, data.child_id, period.academic_year_id)
            if school_class is None:
                raise not_found("childId", "Ученик не учится в этом учебном году в классах школы")
        else:
            if data.class_id is None:
                raise DomainError(ErrorCode.REQUIRED, "Укажите класс годовой оценки", field="classId")
            school_class = await session.get(SchoolClass, data.class_id)
            if school_class is None:
                raise not_found("classId", "Класс не найден")
    assert school_class is not None  # noqa: S101 - found above
    if graded_on is None:
        graded_on = await school_today(session, school_class.school_id)
    if subject_id is not None:
        subject: Subject | None
        if facts is not None:
            diary_facts.ensure_may_write(
                actor, school_id=school_class.school_id, assigned=facts.assigned, scope=IntegrationScope.GRADES_WRITE
            )
            subject = facts.subject
        else:
            await diary_facts.require_may_write(
                session,
                actor=actor,
                school_class=school_class,
                subject_id=subject_id,
                scope=IntegrationScope.GRADES_WRITE,
            )
            subject = await session.get(Subject, subject_id)
        if subject is None or subject.school_id != school_class.school_id:
            errors.add("subjectId", ErrorCode.NOT_FOUND, "Предмет не найден в школе")
    errors.raise_if_any()
    assert subject_id is not None  # noqa: S101 - checked above

    if facts is not None:
        if not facts.enrolled:
            errors.add("childId", ErrorCode.NOT_FOUND, "Ученик не учится в классе в день урока")
    elif data.kind == GradeKind.YEAR_FINAL and not await _ever_enrolled(session, data.child_id, school_class.id):
        errors.add("childId", ErrorCode.NOT_FOUND, "Ученик не учится в этом классе")
    numeric = check_value(errors, data.value)
    if facts is not None and data.control_type_id is not None:
        weight = weight_of(errors, facts.control_type, school_class.school_id, "controlTypeId")
    else:
        weight = await _weight(session, errors, data.control_type_id, school_class.school_id, "controlTypeId")
    comment = clean_comment(errors, data.comment)
    if data.kind != GradeKind.REGULAR and not errors:
        await _refuse_second_final(session, data, subject_id, period_id, school_class.id, school_class.school_id)
    errors.raise_if_any()

    grade = Grade(
        school_id=school_class.school_id,
        child_id=data.child_id,
        lesson_id=lesson.id if lesson else None,
        subject_id=subject_id,
        class_id=school_class.id,
        period_id=period_id,
        kind=data.kind,
        value=data.value,
        numeric_value=numeric,
        control_type_id=data.control_type_id,
        weight=weight,
        comment=comment,
        teacher_id=actor.user_id,
        graded_on=graded_on,
    )
    try:
        async with session.begin_nested():
            session.add(grade)
            await session.flush()
    except IntegrityError:
        raise DomainError(ErrorCode.DUPLICATE, "Итоговая оценка уже выставлена", field="kind") from None
    if facts is not None:  # the families' notice names them: read already
        record_notices.known_names(
            session,
            subjects={subject_id: facts.subject.name},
            control_types={facts.control_type.id: facts.control_type.name} if facts.control_type else {},
        )
    record_entered(session, actor, grade, school_id=school_class.school_id)
    return grade


@dataclass(frozen=True, slots=True)
class _AtLesson:
    """What a grade at a lesson is checked against, read in one statement."""

    lesson: Lesson
    school_class: SchoolClass
    subject: Subject
    timezone: str | None
    period_id: int | None  # the class's period holding the lesson's date
    assigned: bool  # the actor teaches the lesson's class × subject
    enrolled: bool  # the child is in the class on the lesson's date
    control_type: ControlType | None  # the one asked for, if it exists


async def _at_lesson(session: AsyncSession, *, actor: Actor, lesson_id: int, data: GradeData) -> _AtLesson:
    """The lesson with its class, subject, the school's zone, the period, the actor's
    assignment, the child's enrolment and the control type asked for (NOT_FOUND on
    `lessonId` when there is no such lesson)."""
    period = (
        select(Period.id)
        .where(
            Period.academic_year_id == SchoolClass.academic_year_id,
            Period.starts_on <= Lesson.date,
            Period.ends_on >= Lesson.date,
        )
        .order_by(Period.starts_on, Period.id)
        .limit(1)
        .scalar_subquery()
    )
    enrolled = (
        select(Enrollment.id)
        .where(
            Enrollment.child_id == data.child_id,
            Enrollment.class_id == Lesson.class_id,
            *diary_facts.enrolled_on_column(Lesson.date),
        )
        .exists()
    )
    control = ControlType.id == data.control_type_id if data.control_type_id is not None else false()
    stmt = (
        select(
            Lesson,
            SchoolClass,
            Subject,
            School.timezone,
            period,
            diary_facts.assigned_to(actor.user_id, Lesson.class_id, Lesson.subject_id),
            enrolled,
            ControlType,
        )
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .outerjoin(ControlType, control)
        .where(Lesson.id == lesson_id)
    )
    found = await diary_facts.rows_in_writable_schools(
        session, stmt, Lesson.school_id, actor=actor, scope=IntegrationScope.GRADES_WRITE
    )
    if not found:
        raise not_found("lessonId", "Урок не найден")
    lesson, school_class, subject, timezone, period_id, assigned, is_enrolled, control_type = found[0]
    return _AtLesson(
        lesson, school_class, subject, timezone, period_id, bool(assigned), bool(is_enrolled), control_type
    )


async def correct_grade(session: AsyncSession, *, actor: Actor, data: GradeCorrection) -> Grade:
    grade, school_class = await _writable(session, actor, data.grade_id)
    errors = ErrorCollector()
    reason = clean_reason(errors, data.reason)
    numeric = check_value(errors, data.value) if data.value is not None else grade.numeric_value
    weight = (
        await _weight(session, errors, data.control_type_id, school_class.school_id, "controlTypeId")
        if data.control_type_id is not None
        else grade.weight
    )
    comment = clean_comment(errors, data.comment) if data.comment is not None else grade.comment
    revised = Revised(
        value=data.value if data.value is not None else grade.value,
        numeric_value=numeric,
        comment=comment,
        control_type_id=data.control_type_id if data.control_type_id is not None else grade.control_type_id,
        weight=weight,
    )
    if not errors and not revised.changes(grade):
        errors.add("value", ErrorCode.INVALID, "Исправление ничего не меняет")
    errors.raise_if_any()

    record_corrected(session, actor, grade, revised, reason=reason, school_id=school_class.school_id)
    await session.flush()
    return grade


async def delete_grade(session: AsyncSession, *, actor: Actor, grade_id: int, reason: str) -> Grade:
    grade, school_class = await _writable(session, actor, grade_id)
    errors = ErrorCollector()
    clean = clean_reason(errors, reason)
    errors.raise_if_any()
    before = snapshot(grade)
    grade.deleted_at = utcnow()
    session.add(
        GradeRevision(
            school_id=grade.school_id,
            grade_id=grade.id,
            action=GradeAction.DELETED,
            old_value=grade.value,
            old_comment=grade.comment,
            reason=clean,
            changed_by_id=actor.user_id,
        )
    )
    await session.flush()
    _record(session, actor, grade, GradeAction.DELETED, before=before, school_id=school_class.school_id)
    return grade


async def revisions(session: AsyncSession, grade_ids: list[int]) -> list[tuple[int, GradeRevision]]:
    rows = await session.scalars(
        select(GradeRevision).where(GradeRevision.grade_id.in_(grade_ids)).order_by(GradeRevision.id)
    )
    return [(row.grade_id, row) for row in rows]


# --- helpers ---------------------------------------------------------------


async def _writable(session: AsyncSession, actor: Actor, grade_id: int) -> tuple[Grade, SchoolClass]:
    locked = (  # corrections serialize
        select(Grade).where(Grade.id == grade_id).with_for_update().execution_options(populate_existing=True)
    )
    found = await diary_facts.rows_in_writable_schools(
        session, locked, Grade.school_id, actor=actor, scope=IntegrationScope.GRADES_WRITE
    )
    if not found:
        raise not_found("gradeId", "Оценка не найдена")
    grade: Grade = found[0][0]
    school_class = await session.get(SchoolClass, grade.class_id)
    assert school_class is not None  # noqa: S101 - a foreign key
    await diary_facts.require_may_write(
        session,
        actor=actor,
        school_class=school_class,
        subject_id=grade.subject_id,
        scope=IntegrationScope.GRADES_WRITE,
    )
    if grade.deleted_at is not None:
        raise DomainError(ErrorCode.INVALID_STATE, GRADE_DELETED, field="gradeId")
    return grade, school_class


# The rules of a grade's fields, shared with the bulk writes of services/sync (each takes
# the field path its problems are reported on).


def lesson_refusal(lesson: Lesson, *, started: bool) -> str | None:
    """Why no grade can be given at the lesson (cancelled, or not begun by the school's
    clock: `started`), or None."""
    if lesson.status != LessonStatus.SCHEDULED:
        return "Урок отменён: оценку за него поставить нельзя"
    if not started:
        return (
            f"Урок ещё не начался ({lesson.date:%d.%m.%Y} в {lesson.start_time:%H:%M}): оценку за него поставить нельзя"
        )
    return None


def check_value(errors: ErrorCollector, value: str, field: Sequence[str] | str = "value") -> int | None:
    if value not in GRADE_VALUES:
        errors.add(field, ErrorCode.INVALID, "Оценка — от 1 до 5, или PASS / FAIL (зачёт / незачёт)")
        return None
    return NUMERIC.get(value)


def weight_of(
    errors: ErrorCollector, control: ControlType | None, school_id: int, field: Sequence[str] | str
) -> Decimal:
    """The weight a grade takes from its control type (`control`: the one asked for, None
    if there is none): the school's own or a portal-wide one."""
    if control is None or control.school_id not in (None, school_id):
        errors.add(field, ErrorCode.NOT_FOUND, "Вид работы не найден")
        return Decimal("1.00")
    return control.weight


async def _weight(
    session: AsyncSession, errors: ErrorCollector, control_type_id: int | None, school_id: int, field: str
) -> Decimal:
    if control_type_id is None:
        return Decimal("1.00")
    return weight_of(errors, await session.get(ControlType, control_type_id), school_id, field)


def clean_comment(errors: ErrorCollector, comment: str | None, field: Sequence[str] | str = "comment") -> str | None:
    clean = (comment or "").strip() or None
    if clean is not None and len(clean) > COMMENT_MAX:
        errors.add(field, ErrorCode.TOO_LONG, f"Комментарий — не длиннее {COMMENT_MAX} символов")
    return clean


def clean_reason(errors: ErrorCollector, reason: str | None, field: Sequence[str] | str = "reason") -> str:
    clean = (reason or "").strip()
    if not clean:
        errors.add(field, ErrorCode.REQUIRED, "Укажите причину")
    elif len(clean) > REASON_MAX:
        errors.add(field, ErrorCode.TOO_LONG, f"Причина — не длиннее {REASON_MAX} символов")
    return clean


@dataclass(frozen=True, slots=True)
class Revised:
    """A grade's fields after a correction."""

    value: str
    numeric_value: int | None
    comment: str | None
    control_type_id: int | None
    weight: Decimal

    def changes(self, grade: Grade) -> bool:
        return (self.value, self.comment, self.control_type_id) != (grade.value, grade.comment, grade.control_type_id)


def record_entered(session: AsyncSession, actor: Actor, grade: Grade, *, school_id: int) -> None:
    """A new grade (flushed: it has its id): its first revision, the audit entry, the
    families' notice and the event."""
    session.add(GradeRevision(**created_revision(grade, changed_by_id=actor.user_id)))
    _record(session, actor, grade, GradeAction.CREATED, before=None, school_id=school_id)


def record_corrected(
    session: AsyncSession, actor: Actor, grade: Grade, revised: Revised, *, reason: str, school_id: int
) -> None:
    """Correct a grade: the previous value kept in its history, then as `record_entered`."""
    before = snapshot(grade)
    session.add(GradeRevision(**corrected_revision(grade, revised, reason=reason, changed_by_id=actor.user_id)))
    revise(grade, revised)
    _record(session, actor, grade, GradeAction.CORRECTED, before=before, school_id=school_id)


# The steps of those two, for bulk writes (services/sync) that insert the rows themselves.


def created_revision(grade: Grade, *, changed_by_id: int) -> dict[str, object]:
    """The first step of a grade's history (its columns)."""
    return {
        "school_id": grade.school_id,
        "grade_id": grade.id,
        "action": GradeAction.CREATED,
        "new_value": grade.value,
        "new_comment": grade.comment,
        "changed_by_id": changed_by_id,
    }


def corrected_revision(grade: Grade, revised: Revised, *, reason: str, changed_by_id: int) -> dict[str, object]:
    """The step of a correction, taken before the grade is revised (its columns)."""
    return {
        "school_id": grade.school_id,
        "grade_id": grade.id,
        "action": GradeAction.CORRECTED,
        "old_value": grade.value,
        "new_value": revised.value,
        "old_comment": grade.comment,
        "new_comment": revised.comment,
        "reason": reason,
        "changed_by_id": changed_by_id,
    }


_REVISED = ("value", "numeric_value", "comment", "control_type_id", "weight")


def revise(grade: Grade, revised: Revised, *, written_later: bool = False) -> None:
    """The grade's fields as corrected. `written_later`: the caller writes the grade itself
    (`write_revised`), so they are set as the row's values, not as changes to flush."""
    for name in _REVISED:
        if written_later:
            set_committed_value(grade, name, getattr(revised, name))
        else:
            setattr(grade, name, getattr(revised, name))


async def write_revised(session: AsyncSession, grades: Sequence[Grade]) -> None:
    """Several grades corrected at once (services/sync, `revise(…, written_later=True)`):
    one UPDATE for them all, each by its (school, id), its partition. Flushed by the ORM
    they would be one UPDATE each, as it matches the key (the mapper's `version_id_col`)
    one row at a time."""
    if not grades:
        return
    table, now = cast(Table, Grade.__table__), utcnow()
    await session.execute(
        update(table)
        .where(table.c.school_id == bindparam("key_school"), table.c.id == bindparam("key_id"))
        .values({name: bindparam(f"new_{name}") for name in (*_REVISED, "updated_at")}),
        [
            {
                "key_school": grade.school_id,
                "key_id": grade.id,
                "new_updated_at": now,
                **{f"new_{name}": getattr(grade, name) for name in _REVISED},
            }
            for grade in grades
        ],
    )
    for grade in grades:
        set_committed_value(grade, "updated_at", now)


async def periods_on(
    session: AsyncSession, keys: Iterable[tuple[int, dt.date]]
) -> dict[tuple[int, dt.date], int | None]:
    """The period of each (class, date): of the class's academic year, holding the date
    (None between periods). One statement for all of them."""
    keys = list(keys)
    if not keys:
        return {}
    rows = await session.execute(
        select(SchoolClass.id, Period.id, Period.starts_on, Period.ends_on)
        .join(Period, Period.academic_year_id == SchoolClass.academic_year_id)
        .where(
            SchoolClass.id.in_({class_id for class_id, _ in keys}),
            Period.starts_on <= max(day for _, day in keys),
            Period.ends_on >= min(day for _, day in keys),
        )
    )
    periods = rows.all()
    return {
        (class_id, day): next(
            (int(p) for c, p, starts, ends in periods if c == class_id and starts <= day <= ends), None
        )
        for class_id, day in keys
    }


async def _class_of_child_in_year(session: AsyncSession, child_id: int, academic_year_id: int) -> SchoolClass | None:
    return await session.scalar(
        select(SchoolClass)
        .join(Enrollment, Enrollment.class_id == SchoolClass.id)
        .where(Enrollment.child_id == child_id, SchoolClass.academic_year_id == academic_year_id)
        .order_by(Enrollment.starts_on.desc())
        .limit(1)
    )


async def _ever_enrolled(session: AsyncSession, child_id: int, class_id: int) -> bool:
    found = await session.scalar(
        select(Enrollment.id).where(Enrollment.child_id == child_id, Enrollment.class_id == class_id).limit(1)
    )
    return found is not None


async def _refuse_second_final(
    session: AsyncSession, data: GradeData, subject_id: int, period_id: int | None, class_id: int, school_id: int
) -> None:
    """DUPLICATE if the child has the final already; within the school (the subject's,
    so its finals' too: one partition)."""
    scope = (
        and_(Grade.kind == GradeKind.PERIOD_FINAL, Grade.period_id == period_id)
        if data.kind == GradeKind.PERIOD_FINAL
        else and_(Grade.kind == GradeKind.YEAR_FINAL, Grade.class_id == class_id)
    )
    existing = await session.scalar(
        select(Grade.id).where(
            Grade.school_id == school_id,
            Grade.child_id == data.child_id,
            Grade.subject_id == subject_id,
            Grade.deleted_at.is_(None),
            or_(scope),
        )
    )
    if existing is not None:
        raise DomainError(
            ErrorCode.DUPLICATE,
            f"Итоговая оценка уже выставлена (id {diary_facts.global_id('Grade', existing)}): исправьте её",
            field="kind",
        )


_NOTICE_ACTIONS = {GradeAction.CREATED: "entered", GradeAction.CORRECTED: "corrected", GradeAction.DELETED: "deleted"}


def snapshot(grade: Grade) -> dict[str, object]:
    return {
        "value": grade.value,
        "comment": grade.comment,
        "control_type_id": grade.control_type_id,
        "weight": str(grade.weight),
        "deleted": grade.deleted_at is not None,
    }


def _record(
    session: AsyncSession,
    actor: Actor,
    grade: Grade,
    action: GradeAction,
    *,
    before: dict[str, object] | None,
    school_id: int,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=_AUDIT_ACTIONS[action],
        entity_type="Grade",
        entity_id=grade.id,
        before=before,
        after=snapshot(grade),
        school_id=school_id,
    )
    announce(
        session, actor, grade, action, old_value=None if before is None else str(before["value"]), school_id=school_id
    )


def announce(
    session: AsyncSession, actor: Actor, grade: Grade, action: GradeAction, *, old_value: str | None, school_id: int
) -> None:
    """What a grade's change tells: the families' notice (grouped at commit), the event and
    the school's change feed."""
    record_notices.grade_changed(
        session, actor_user_id=actor.user_id, grade=grade, old_value=old_value, action=_NOTICE_ACTIONS[action]
    )
    queue_event(
        session,
        GradeChanged(
            grade_id=grade.id,
            child_id=grade.child_id,
            class_id=grade.class_id,
            school_id=school_id,
            action=action.value,
        ),
    )
    change_feed.record(session, school_id=school_id, type=ChangeType.GRADE, ids=[grade.id], action=_CHANGES[action])


# the change feed's action of each grade action (services/changes.py)
_CHANGES = {
    GradeAction.CREATED: ChangeAction.CREATED,
    GradeAction.CORRECTED: ChangeAction.UPDATED,
    GradeAction.DELETED: ChangeAction.DELETED,
}
