"""Asking for a report: what is checked (each problem at its field), who may ask for
what, the per-user limit, the QUEUED row with its events, and what the requester reads
back (their list, their file)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import SYSTEM_ACTOR, Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.enums import (
    ReportFormat,
    ReportGrouping,
    ReportKind,
    ReportScope,
    ReportStatus,
    StaffRole,
    UserStatus,
)
from ediary_gql.db.models.reports import ReportTemplate
from ediary_gql.errors import DomainError, ErrorCode, RateLimited
from ediary_gql.events import channels
from ediary_gql.events.types import ReportChanged, ReportsQueued
from ediary_gql.services.public_ids import global_id
from ediary_gql.services.reports.requests import my_reports_query, report_for_download
from tests.diary_writes_support import World, make_world
from tests.factories import (
    make_academic_year,
    make_child,
    make_period,
    make_report,
    make_school,
    make_school_class,
    make_teacher,
    make_user,
)
from tests.services.reports.queue_support import actor_of, ask, events_of, reports


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


async def _refusal(services: AppServices, user: Any, world: World, **overrides: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await ask(services, user, world, **overrides)
    return caught.value


def _problems(exc: DomainError) -> set[tuple[ErrorCode, tuple[str, ...]]]:
    return {(e.code, e.field) for e in exc.errors}


# --- the row and its events ----------------------------------------------------------------


async def test_a_parent_queues_their_childs_report_over_a_period(app_services: AppServices, world: World) -> None:
    # when the parent asks for the child's first-quarter progress as a PDF
    asked = await ask(app_services, world.parent, world)

    # then a QUEUED report of the child's school, over the period's dates, is theirs
    [row] = await reports(app_services)
    assert row.id == asked.id
    assert (row.status, row.attempts, row.requested_by_id, row.school_id) == (
        ReportStatus.QUEUED,
        0,
        world.parent.id,
        world.school.id,
    )
    assert (row.kind, row.scope, row.scope_id, row.format) == (
        ReportKind.PROGRESS,
        ReportScope.CHILD,
        world.child.id,
        ReportFormat.PDF,
    )
    assert (row.period_id, row.date_from, row.date_to) == (
        world.period.id,
        world.period.starts_on,
        world.period.ends_on,
    )
    assert row.template_id is None  # the school has no template: the built-in default
    # and the requester's channel heard it queued, and the workers were woken
    [changed] = await events_of(app_services, ReportChanged.kind)
    assert changed.channel == channels.user_reports(world.parent.id)
    assert changed.payload == {"report_id": row.id, "requester_id": world.parent.id, "status": "QUEUED"}
    [woken] = await events_of(app_services, ReportsQueued.kind)
    assert woken.channel == channels.reports_queue()
    # and the request is in the audit trail, with global IDs
    async with app_services.session_factory() as s:
        entry = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "requestReport"))).one()
    assert entry.actor_user_id == world.parent.id
    assert entry.school_id == world.school.id
    assert entry.after is not None
    assert entry.after["childId"] == global_id("Child", world.child.id)
    assert entry.after["periodId"] == global_id("Period", world.period.id)


async def test_dates_instead_of_a_period(app_services: AppServices, world: World) -> None:
    start, end = dt.date(2026, 9, 1), dt.date(2026, 12, 31)
    asked = await ask(app_services, world.parent, world, period_id=None, date_from=start, date_to=end)
    assert (asked.period_id, asked.date_from, asked.date_to) == (None, start, end)


async def test_the_schools_default_template_is_kept_unless_one_is_chosen(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    # given a default progress template and another one of the school, and an attendance one
    def template(**fields: Any) -> ReportTemplate:
        return ReportTemplate(
            school_id=world.school.id,
            kind=ReportKind.PROGRESS,
            columns=["DATE", "GRADE"],
            group_by=ReportGrouping.SUBJECT,
            **fields,
        )

    default, chosen = template(name="Основной", is_default=True), template(name="Краткий")
    attendance = template(name="Пропуски")
    attendance.kind, attendance.columns = ReportKind.ATTENDANCE, ["DATE", "STATUS"]
    foreign = template(name="Чужой")
    foreign.school_id = (await make_school(session)).id
    session.add_all([default, chosen, attendance, foreign])
    await session.commit()

    # then a report asked without a template keeps the default, one asked with it keeps it
    assert (await ask(app_services, world.parent, world)).template_id == default.id
    assert (await ask(app_services, world.parent, world, template_id=chosen.id)).template_id == chosen.id
    # and another school's template, or one for the other kind, is refused at templateId
    refused = await _refusal(app_services, world.parent, world, template_id=foreign.id)
    assert _problems(refused) == {(ErrorCode.NOT_FOUND, ("templateId",))}
    refused = await _refusal(app_services, world.parent, world, template_id=attendance.id)
    assert _problems(refused) == {(ErrorCode.INVALID, ("templateId",))}
    refused = await _refusal(app_services, world.parent, world, template_id=10**9)
    assert _problems(refused) == {(ErrorCode.NOT_FOUND, ("templateId",))}


# --- what is checked, at which field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (
            {"period_id": None},
            {(ErrorCode.REQUIRED, ("from",)), (ErrorCode.REQUIRED, ("to",))},
        ),
        (
            {"period_id": None, "date_from": dt.date(2026, 9, 1)},
            {(ErrorCode.REQUIRED, ("to",))},
        ),
        (
            {"date_from": dt.date(2026, 9, 1), "date_to": dt.date(2026, 9, 30)},
            {(ErrorCode.INVALID, ("periodId",))},
        ),
        (
            {"period_id": None, "date_from": dt.date(2026, 9, 30), "date_to": dt.date(2026, 9, 1)},
            {(ErrorCode.INVALID, ("to",))},
        ),
        (
            {"period_id": None, "date_from": dt.date(2026, 9, 1), "date_to": dt.date(2027, 9, 2)},
            {(ErrorCode.INVALID, ("to",))},
        ),
        ({"period_id": 10**9}, {(ErrorCode.NOT_FOUND, ("periodId",))}),
    ],
    ids=["nothing", "no-end", "both", "backwards", "over-a-year", "no-such-period"],
)
async def test_the_dates_are_checked_at_their_fields(
    app_services: AppServices, world: World, dates: dict[str, Any], expected: set[Any]
) -> None:
    refused = await _refusal(app_services, world.parent, world, **dates)
    assert _problems(refused) == expected
    assert await reports(app_services) == []


async def test_a_whole_year_is_allowed(app_services: AppServices, world: World) -> None:
    start = dt.date(2026, 9, 1)
    asked = await ask(app_services, world.admin, world, period_id=None, date_from=start, date_to=dt.date(2027, 9, 1))
    assert asked.date_to - asked.date_from == dt.timedelta(days=365)


async def test_a_period_of_another_school_is_refused(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    other_year = await make_academic_year(session, school=await make_school(session))
    other_period = await make_period(session, academic_year_id=other_year.id, number=1)
    await session.commit()
    for scope, target in ((ReportScope.CHILD, world.child.id), (ReportScope.CLASS, world.school_class.id)):
        refused = await _refusal(
            app_services, world.admin, world, scope=scope, target_id=target, period_id=other_period.id
        )
        assert _problems(refused) == {(ErrorCode.INVALID, ("periodId",))}


@pytest.mark.parametrize("scope", list(ReportScope))
async def test_a_target_that_does_not_exist_is_not_found(
    app_services: AppServices, world: World, scope: ReportScope
) -> None:
    refused = await _refusal(app_services, world.admin, world, scope=scope, target_id=10**9)
    assert _problems(refused) == {(ErrorCode.NOT_FOUND, ("targetId",))}


async def test_a_child_in_no_class_on_the_dates_is_refused(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    # the child's family asks for a summer before the child was enrolled
    refused = await _refusal(
        app_services,
        world.parent,
        world,
        period_id=None,
        date_from=dt.date(2026, 6, 1),
        date_to=dt.date(2026, 8, 31),
    )
    assert _problems(refused) == {(ErrorCode.INVALID, ("from",))}


# --- who may ask for what ------------------------------------------------------------------------

ALLOWED: dict[ReportScope, set[str]] = {
    ReportScope.CHILD: {"parent", "student", "teacher", "admin"},
    ReportScope.CLASS: {"teacher", "admin"},
    ReportScope.SCHOOL: {"admin"},
}
PEOPLE = (
    "parent",
    "student",
    "teacher",
    "admin",
    "other_teacher",
    "other_parent",
    "foreign_teacher",
    "foreign_admin",
    "operator",
)


def _target(world: World, scope: ReportScope) -> int:
    return {ReportScope.CHILD: world.child.id, ReportScope.CLASS: world.school_class.id}.get(scope, world.school.id)


@pytest.mark.parametrize("scope", list(ReportScope))
async def test_who_may_ask_for_a_report_of_each_scope(
    app_services: AppServices, world: World, scope: ReportScope
) -> None:
    for name in PEOPLE:
        user = getattr(world, name)
        if name in ALLOWED[scope]:
            asked = await ask(app_services, user, world, scope=scope, target_id=_target(world, scope))
            assert asked.requested_by_id == user.id, name
        else:
            refused = await _refusal(app_services, user, world, scope=scope, target_id=_target(world, scope))
            assert refused.code is ErrorCode.FORBIDDEN, name
    # the refused asked for nothing
    assert {r.requested_by_id for r in await reports(app_services)} == {
        getattr(world, name).id for name in ALLOWED[scope]
    }


async def test_a_parent_of_another_family_is_refused_their_neighbours_child(
    app_services: AppServices, world: World
) -> None:
    refused = await _refusal(app_services, world.other_parent, world, target_id=world.child.id)
    assert refused.code is ErrorCode.FORBIDDEN
    # and gets their own child's
    assert (await ask(app_services, world.other_parent, world, target_id=world.other_child.id)).scope_id == (
        world.other_child.id
    )


async def test_the_homeroom_teacher_may_ask_for_the_class_and_its_children(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    # given a teacher of the school who teaches nothing in the class but is its homeroom teacher
    homeroom = await make_teacher(session, school_id=world.school.id)
    world.school_class.homeroom_teacher_id = homeroom.id
    session.add(world.school_class)
    await session.commit()
    assert (await ask(app_services, homeroom, world, scope=ReportScope.CLASS, target_id=world.school_class.id)).id
    assert (await ask(app_services, homeroom, world)).scope_id == world.child.id


async def test_a_teacher_of_the_childs_former_class_may_not_ask_for_its_dates_after(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    # given a child who left the class for another of the same school in November
    enrolment = (await session.scalars(select(Enrollment).where(Enrollment.child_id == world.child.id))).one()
    enrolment.ends_on = dt.date(2026, 10, 31)
    other_class = await make_school_class(session, school_id=world.school.id, academic_year_id=world.year.id)
    session.add(Enrollment(child_id=world.child.id, class_id=other_class.id, starts_on=dt.date(2026, 11, 1)))
    await session.commit()
    december = {"period_id": None, "date_from": dt.date(2026, 12, 1), "date_to": dt.date(2026, 12, 20)}
    # then the teacher of the former class is refused December, but not September
    assert (await _refusal(app_services, world.teacher, world, **december)).code is ErrorCode.FORBIDDEN
    assert (await ask(app_services, world.teacher, world)).scope_id == world.child.id
    # and the school's admin may ask for both
    assert (await ask(app_services, world.admin, world, **december)).school_id == world.school.id


async def test_an_unconfirmed_account_may_not_ask(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    world.parent.status = UserStatus.TEMPORARY
    session.add(world.parent)
    await session.commit()
    assert (await _refusal(app_services, world.parent, world)).code is ErrorCode.ACCOUNT_NOT_CONFIRMED


def test_the_system_and_integrations_ask_for_no_report() -> None:
    integration = Actor(
        user_id=7,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(1, StaffRole.SCHOOL_ADMIN)}),
        integration_id=3,
        integration_school_id=1,
    )
    for actor in (SYSTEM_ACTOR, integration):
        assert not policy.can_request_school_report(actor, school_id=1)
        assert not policy.can_request_class_report(actor, school_id=1, teaches_class=True)
        assert not policy.can_request_child_report(actor, child_id=1, school_ids=frozenset({1}), teaches_class=True)
    assert not policy.can_request_school_report(None, school_id=1)


# --- the per-user limit -----------------------------------------------------------------------


async def test_a_user_may_have_only_so_many_reports_in_the_queue(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    # given four queued reports of the admin and one running, and one made already
    for _ in range(4):
        await ask(app_services, world.admin, world)
    running = await ask(app_services, world.admin, world)
    await make_report(session, school_id=world.school.id, requested_by_id=world.admin.id, status=ReportStatus.READY)
    running_row = await session.get(type(running), running.id)
    assert running_row is not None
    running_row.status = ReportStatus.RUNNING
    await session.commit()

    # when they ask for a sixth
    with pytest.raises(RateLimited) as caught:
        await ask(app_services, world.admin, world)

    # then it is refused until one is done; another user's queue is their own
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after_seconds > 0
    assert len(await reports(app_services)) == 6
    assert (await ask(app_services, world.teacher, world)).requested_by_id == world.teacher.id
    running_row.status = ReportStatus.FAILED
    running_row.error = "Нет данных"
    await session.commit()
    assert (await ask(app_services, world.admin, world)).status is ReportStatus.QUEUED
    # and the limit is the caller's to set (REPORT_QUEUE_LIMIT)
    with pytest.raises(RateLimited):
        await ask(app_services, world.teacher, world, queue_limit=1)


# --- what the requester reads back -------------------------------------------------------------


async def test_my_reports_are_mine_newest_first(app_services: AppServices, world: World) -> None:
    first = await ask(app_services, world.parent, world)
    await ask(app_services, world.other_parent, world, target_id=world.other_child.id)
    second = await ask(app_services, world.parent, world, kind=ReportKind.ATTENDANCE, format=ReportFormat.CSV)
    async with app_services.session_factory() as s:
        mine = (await s.scalars(my_reports_query(await actor_of(app_services, world.parent)))).all()
    assert [r.id for r in mine] == [second.id, first.id]


async def test_only_the_requester_gets_a_ready_or_expired_report_for_download(
    app_services: AppServices, world: World, session: AsyncSession
) -> None:
    made = {
        status: await make_report(session, school_id=world.school.id, requested_by_id=world.parent.id, status=status)
        for status in ReportStatus
    }
    stranger = await make_user(session)
    await make_child(session)
    await session.commit()
    parent, admin = await actor_of(app_services, world.parent), await actor_of(app_services, world.admin)
    other = await actor_of(app_services, stranger)
    async with app_services.session_factory() as s:
        found = {
            status: await report_for_download(s, actor=parent, report_id=row.id) is not None
            for status, row in made.items()
        }
        assert found == {
            ReportStatus.QUEUED: False,
            ReportStatus.RUNNING: False,
            ReportStatus.READY: True,
            ReportStatus.FAILED: False,
            ReportStatus.EXPIRED: True,
        }
        for actor in (admin, other, SYSTEM_ACTOR):
            assert await report_for_download(s, actor=actor, report_id=made[ReportStatus.READY].id) is None
        assert await report_for_download(s, actor=parent, report_id=10**9) is None
