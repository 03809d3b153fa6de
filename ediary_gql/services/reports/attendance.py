"""An attendance report's sections: counts by status, minutes late and the share of
lessons attended, over the non-cancelled lessons of the dates. A child's: their totals,
then their marked lessons as the template lays them out; a class's: per child and by day;
a school's: by class and by day. The class's and school's counts are
services/statistics.py's grouped statements, one per section."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, ReportColumn, ReportGrouping
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.reports.document import Cell, Column, ColumnKind, Section
from ediary_gql.services import statistics
from ediary_gql.services.reports import headings as h
from ediary_gql.services.reports.visibility import Frame, Pupil
from ediary_gql.services.statistics import Counts, GroupBy

C = ReportColumn
_teacher = User.__table__.alias("teacher")
_lesson = Lesson.__table__
_mark = Attendance.__table__
_subject = Subject.__table__

# The counts' columns, in this order after the group's own.
COUNT_COLUMNS = (
    Column("marked", "Отмечено", ColumnKind.INTEGER),
    *(Column(s.value.lower(), h.STATUS_LABELS[s], ColumnKind.INTEGER) for s in AttendanceStatus),
    Column("minutes_late", "Минут опоздания", ColumnKind.INTEGER),
    Column("share", "Доля посещённых", ColumnKind.PERCENT),
)
LESSONS_COLUMN = Column("lessons", "Уроков", ColumnKind.INTEGER)


def count_cells(counts: Counts) -> tuple[Cell, ...]:
    """The cells of COUNT_COLUMNS."""
    return (
        counts.marked,
        counts.present,
        counts.absent,
        counts.late,
        counts.excused,
        counts.sick,
        counts.minutes_late,
        h.share(counts.present + counts.late, counts.marked),
    )


_MARKS = (
    select(
        _lesson.c.id,
        _lesson.c.class_id,
        _lesson.c.date,
        _lesson.c.start_time,
        _subject.c.id,
        _subject.c.name,
        _mark.c.status,
        _mark.c.minutes_late,
        _mark.c.reason,
        _teacher.c.last_name,
        _teacher.c.first_name,
        _teacher.c.middle_name,
        _lesson.c.topic,
    )
    .select_from(_mark)
    .join(_lesson, (_lesson.c.school_id == _mark.c.school_id) & (_lesson.c.id == _mark.c.lesson_id))  # one partition
    .join(_subject, _subject.c.id == _lesson.c.subject_id)
    .join(_teacher, _teacher.c.id == _lesson.c.teacher_id)
    .where(
        _mark.c.child_id == bindparam("child"),
        _lesson.c.school_id == bindparam("school"),
        _lesson.c.date.between(bindparam("start"), bindparam("end")),
        _lesson.c.status != LessonStatus.CANCELLED,
    )
    .order_by(_lesson.c.date, _lesson.c.start_time, _lesson.c.id)
)


def _tally(statuses: Sequence[AttendanceStatus], minutes: int) -> Counts:
    n = Counter(statuses)
    return Counts(
        present=n[AttendanceStatus.PRESENT],
        absent=n[AttendanceStatus.ABSENT],
        late=n[AttendanceStatus.LATE],
        excused=n[AttendanceStatus.EXCUSED],
        sick=n[AttendanceStatus.SICK],
        marked=len(statuses),
        lessons=len(statuses),  # one mark per lesson
        minutes_late=minutes,
    )


async def child_sections(session: AsyncSession, frame: Frame, pupil: Pupil) -> list[Section]:
    """The child's totals over the marks the requester may see, then those lessons."""
    spec = frame.spec
    per_subject = spec.group_by is ReportGrouping.SUBJECT
    columns = h.lesson_columns(spec, per_subject=per_subject, comment=h.REASON_TITLE)
    rows: list[tuple[int, str, tuple[Cell, ...]]] = []  # (subject, its name, cells)
    statuses: list[AttendanceStatus] = []
    minutes = 0
    result: Any = await session.execute(_MARKS, frame.params(child=pupil.id))
    for _, class_id, day, _, subject, name, status, late, reason, *teacher, topic in result.all():
        if not frame.viewer.sees_marks(pupil.id, class_id):
            continue
        status = AttendanceStatus(status)
        statuses.append(status)
        minutes += late or 0
        values: dict[ReportColumn, Cell] = {
            C.DATE: day,
            C.SUBJECT: name,
            C.STATUS: h.STATUS_LABELS[status],
            C.MINUTES_LATE: late,
            C.TEACHER: h.full_name(*teacher),
            C.TOPIC: topic,
        }
        rows.append((subject, name, h.pick(spec, per_subject=per_subject, values=values, comment=reason)))
    counts = _tally(statuses, minutes)
    summary = Section(h.ATTENDANCE_SUMMARY, COUNT_COLUMNS, (count_cells(counts),) if rows else ())
    if not rows:
        return [Section(summary.title, summary.columns, (), note=h.NOTHING)]
    if not per_subject:
        return [summary, Section(h.LESSONS, columns, tuple(cells for _, _, cells in rows))]
    by_subject: dict[tuple[str, int], list[tuple[Cell, ...]]] = defaultdict(list)
    for subject, name, cells in rows:
        by_subject[(name, subject)].append(cells)
    return [summary, *(Section(name, columns, tuple(items)) for (name, _), items in sorted(by_subject.items()))]


async def _counts(frame: Frame, session: AsyncSession, group_by: GroupBy, class_id: int | None) -> Any:
    return await statistics.attendance_counts(
        session,
        school_id=frame.school_id,
        class_id=class_id,
        start=frame.date_from,
        end=frame.date_to,
        group_by=group_by,
    )


def _by_day(groups: Sequence[statistics.AttendanceGroup]) -> Section:
    columns = (Column("date", "Дата", ColumnKind.DATE), LESSONS_COLUMN, *COUNT_COLUMNS)
    rows = tuple((g.key, g.counts.lessons, *count_cells(g.counts)) for g in groups if isinstance(g.key, dt.date))
    return Section(h.BY_DAY, columns, rows, note=None if rows else h.NOTHING)


async def class_sections(session: AsyncSession, frame: Frame, class_id: int, pupils: Sequence[Pupil]) -> list[Section]:
    """Per child of the class whose diary the requester may read (by name, those without
    marks too), with their total, then the class by day."""
    _, children = await _counts(frame, session, GroupBy.CHILD, class_id)
    _, days = await _counts(frame, session, GroupBy.DAY, class_id)
    found = {g.key: g.counts for g in children}
    shown = [found.get(p.id, Counts()) for p in pupils]
    rows = [(p.name, *count_cells(counts)) for p, counts in zip(pupils, shown, strict=True)]
    if rows:
        rows.append((h.TOTAL, *count_cells(_sum(shown))))
    columns = (Column("child", "Ученик"), *COUNT_COLUMNS)
    per_child = Section(h.BY_CHILD, columns, tuple(rows), note=None if rows else h.NOTHING)
    return [per_child, _by_day(days)]


def _sum(counts: Sequence[Counts]) -> Counts:
    """The children's counts together (lessons are not summed: a lesson has many children)."""
    return Counts(
        present=sum(c.present for c in counts),
        absent=sum(c.absent for c in counts),
        late=sum(c.late for c in counts),
        excused=sum(c.excused for c in counts),
        sick=sum(c.sick for c in counts),
        marked=sum(c.marked for c in counts),
        minutes_late=sum(c.minutes_late for c in counts),
    )


async def school_sections(session: AsyncSession, frame: Frame) -> list[Section]:
    """By class, with the school's total, then by day: two grouped statements."""
    total, classes = await _counts(frame, session, GroupBy.CLASS, None)
    _, days = await _counts(frame, session, GroupBy.DAY, None)
    rows = [(g.label, g.counts.lessons, *count_cells(g.counts)) for g in classes]
    if rows:
        rows.append((h.TOTAL, total.lessons, *count_cells(total)))
    columns = (Column("class", "Класс"), LESSONS_COLUMN, *COUNT_COLUMNS)
    return [Section(h.BY_CLASS, columns, tuple(rows), note=None if rows else h.NOTHING), _by_day(days)]
