"""The «Замечания учителей» section: teachers' remarks on the children's periods that
overlap the report's dates, at the report's school. A remark on a subject is shown to
whoever sees that subject of the child; one on the period as a whole, to whoever reads
the child's diary."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.reports import ReportRemark
from ediary_gql.db.models.users import User
from ediary_gql.reports.document import Cell, Column, ColumnKind, Section
from ediary_gql.services.reports import headings as h
from ediary_gql.services.reports.visibility import Frame, Pupil

_remark = ReportRemark.__table__
_author = User.__table__.alias("author")
_subject = Subject.__table__
_period = Period.__table__
_year = AcademicYear.__table__

_REMARKS = (
    select(
        _remark.c.child_id,
        _remark.c.subject_id,
        _subject.c.name,
        _author.c.last_name,
        _author.c.first_name,
        _author.c.middle_name,
        _remark.c.text,
        _remark.c.created_at,
    )
    .select_from(_remark)
    .join(_period, _period.c.id == _remark.c.period_id)
    .join(_year, _year.c.id == _period.c.academic_year_id)
    .outerjoin(_subject, _subject.c.id == _remark.c.subject_id)
    .outerjoin(_author, _author.c.id == _remark.c.author_id)
    .where(
        _remark.c.child_id.in_(bindparam("children", expanding=True)),
        _year.c.school_id == bindparam("school"),
        _period.c.starts_on <= bindparam("end"),
        _period.c.ends_on >= bindparam("start"),
    )
    .order_by(_remark.c.created_at, _remark.c.id)
)
COLUMNS = (
    Column("date", "Дата", ColumnKind.DATE),
    Column("teacher", "Учитель"),
    Column("subject", "Предмет"),
    Column("text", "Замечание"),
)


async def remarks_section(session: AsyncSession, frame: Frame, pupils: Sequence[Pupil], *, by_child: bool) -> Section:
    """The children's remarks (one statement); `by_child`: each row led by the child's name."""
    found: list[tuple[int, tuple[Cell, ...]]] = []
    if pupils:
        order = {p.id: n for n, p in enumerate(pupils)}
        params = frame.params(children=list(order))
        for child, subject, name, *author, text, created in (await session.execute(_REMARKS, params)).all():
            pupil = pupils[order[child]]
            if subject is not None and not frame.viewer.sees_subject(child, subject, pupil.class_ids):
                continue
            day = h.made_at(created, frame.zone).date()
            cells: tuple[Cell, ...] = (day, h.full_name(*author) or None, name, text)
            found.append((order[child], (pupil.name, *cells) if by_child else cells))
    found.sort(key=lambda item: item[0])  # by child, each child's in the order written (a stable sort)
    columns = h.with_child(COLUMNS) if by_child else COLUMNS
    rows = tuple(cells for _, cells in found)
    return Section(h.REMARKS, columns, rows, note=None if rows else "Замечаний нет")
