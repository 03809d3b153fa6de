"""Who a report's document is refused to (FORBIDDEN, with the message the worker stores
as the report's error), a target that is gone (NOT_FOUND), access lost after asking,
and every document rendered in each format."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportKind, ReportScope
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.reports.render import ReportFormat, render
from tests.factories import make_guardianship, make_school_class
from tests.services.reports.document_support import Diary, build, make_diary, texts

KINDS = (ReportKind.PROGRESS, ReportKind.ATTENDANCE)


@pytest.fixture
async def diary(session: AsyncSession) -> Diary:
    return await make_diary(session)


async def _refused(
    session: AsyncSession, services: AppServices, diary: Diary, who: User, scope: ReportScope, **kw: Any
) -> DomainError:
    for kind in KINDS:
        with pytest.raises(DomainError) as caught:
            await build(session, services, diary, by=who, kind=kind, scope=scope, **kw)
    return caught.value


async def test_a_report_is_refused_to_whoever_may_not_see_its_target(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    refusals = [
        (w.other_parent, ReportScope.CHILD),  # another family's child
        (w.parent, ReportScope.CLASS),  # a family sees its own children only
        (w.parent, ReportScope.SCHOOL),
        (w.student, ReportScope.CLASS),
        (w.other_teacher, ReportScope.CHILD),  # the school's, not teaching the class
        (w.other_teacher, ReportScope.CLASS),
        (w.teacher, ReportScope.SCHOOL),  # a whole school: its admins only
        (w.foreign_teacher, ReportScope.CHILD),
        (w.foreign_admin, ReportScope.CLASS),
        (w.foreign_admin, ReportScope.SCHOOL),
        (w.operator, ReportScope.CHILD),
        (w.operator, ReportScope.SCHOOL),
    ]
    for who, scope in refusals:
        error = await _refused(session, app_services, diary, who, scope)
        assert error.code is ErrorCode.FORBIDDEN, (who, scope)
        assert str(error).startswith(("Нет доступа", "Отчёт по"))


async def test_a_guardian_of_two_sees_each_child_alone(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    await make_guardianship(session, parent_id=w.parent.id, child_id=w.other_child.id)
    await session.commit()
    for kind in KINDS:
        mine = await build(session, app_services, diary, by=w.parent, kind=kind, scope=ReportScope.CHILD)
        theirs = await build(
            session, app_services, diary, by=w.parent, kind=kind, scope=ReportScope.CHILD, target=w.other_child.id
        )
        assert w.child.full_name in mine.title
        assert w.other_child.last_name not in texts(mine)
        assert w.other_child.full_name in theirs.title
        assert w.child.last_name not in texts(theirs)


async def test_a_target_that_is_gone_or_of_another_school_is_not_found(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    elsewhere = await make_school_class(session)  # of a school of its own
    await session.commit()
    for scope, target in (
        (ReportScope.CHILD, w.child.id + 10_000),
        (ReportScope.CLASS, w.school_class.id + 10_000),
        (ReportScope.CLASS, elsewhere.id),
        (ReportScope.SCHOOL, elsewhere.school_id),
    ):
        error = await _refused(session, app_services, diary, w.admin, scope, target=target)
        assert (error.code, error.errors[0].field) == (ErrorCode.NOT_FOUND, ("targetId",)), scope


async def test_a_teacher_who_has_left_the_school_is_refused_what_they_asked_for(
    session: AsyncSession, app_services: AppServices, diary: Diary
) -> None:
    w = diary.world
    await build(session, app_services, diary, by=w.teacher, kind=ReportKind.PROGRESS, scope=ReportScope.CLASS)
    await session.execute(update(StaffMembership).where(StaffMembership.user_id == w.teacher.id).values(active=False))
    await session.commit()
    error = await _refused(session, app_services, diary, w.teacher, ReportScope.CLASS)
    assert error.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("scope", list(ReportScope))
@pytest.mark.parametrize("kind", KINDS)
async def test_every_document_renders_in_every_format(
    session: AsyncSession, app_services: AppServices, diary: Diary, kind: ReportKind, scope: ReportScope
) -> None:
    w = diary.world
    by = w.parent if scope is ReportScope.CHILD else w.admin
    doc = await build(session, app_services, diary, by=by, kind=kind, scope=scope)
    for fmt in ReportFormat:
        assert render(doc, fmt)
    rows = list(csv.reader(io.StringIO(render(doc, ReportFormat.CSV).decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [doc.title]
    book = openpyxl.load_workbook(io.BytesIO(render(doc, ReportFormat.XLSX)), read_only=True)
    assert len(book.sheetnames) == len(doc.sections) + 1  # the cover, then a sheet per section
    if scope is ReportScope.CHILD:
        assert any(w.child.full_name in cell for row in rows for cell in row)
