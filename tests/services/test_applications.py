"""Applications without GraphQL: the status machine, field rules, numbers, due dates, reminders."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.enums import (
    ApplicationAction,
    ApplicationStatus,
    NotificationKind,
    StaffRole,
    UserStatus,
)
from ediary_gql.db.models.notifications import Notification
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import requisites
from ediary_gql.services.applications.deadlines import due_date
from ediary_gql.services.applications.drafts import create_application
from ediary_gql.services.applications.form import (
    ApplicationData,
    normalize_birth_cert_series,
    normalize_citizenship,
    normalize_snils,
)
from ediary_gql.services.applications.notices import notify_overdue
from ediary_gql.services.applications.review import review_application
from ediary_gql.services.applications.status import next_status
from ediary_gql.services.applications.submission import submit_application
from ediary_gql.services.production_calendar import WorkingCalendar
from tests.factories import (
    make_application,
    make_application_attachment,
    make_calendar_override,
    make_school,
    make_school_admin,
    make_user,
)

S = ApplicationStatus
A = ApplicationAction

# The whole machine, written out by hand: every (status, action) pair not listed is refused.
EXPECTED = {
    (S.DRAFT, A.UPDATE): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.EXTEND): S.SUBMITTED,
    (S.ACCEPTED, A.START_REVIEW): S.IN_REVIEW,
    (S.ACCEPTED, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.ACCEPTED, A.EXTEND): S.ACCEPTED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.IN_REVIEW, A.REQUEST_CORRECTION): S.NEEDS_CORRECTION,
    (S.IN_REVIEW, A.EXTEND): S.IN_REVIEW,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
    (S.NEEDS_CORRECTION, A.UPDATE): S.NEEDS_CORRECTION,
    (S.NEEDS_CORRECTION, A.SUBMIT): S.SUBMITTED,
}


def actor_of(user_id: int, **kw: object) -> Actor:
    return Actor(user_id=user_id, session_id=None, status=UserStatus.CONFIRMED, **kw)  # type: ignore[arg-type]


def admin_actor(user_id: int, school_id: int) -> Actor:
    return actor_of(user_id, memberships=frozenset({(school_id, StaffRole.SCHOOL_ADMIN)}))


@pytest.mark.parametrize(("status", "action"), list(itertools.product(S, A)))
def test_the_status_machine_allows_exactly_its_table(status: ApplicationStatus, action: ApplicationAction) -> None:
    assert next_status(status, action) == EXPECTED.get((status, action))


def test_final_statuses_have_no_way_out() -> None:
    for status in (S.APPROVED, S.REJECTED):
        assert all(next_status(status, action) is None for action in A)


# --- field rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [("112-233-445 95", "11223344595"), ("11223344595", "11223344595")])
def test_snils_with_a_valid_check_number(raw: str, clean: str) -> None:
    # 112-233-445 95: the Pension Fund's published example
    assert normalize_snils(raw) == clean


def test_snils_issued_before_checks_began_pass_whatever_the_check() -> None:
    assert requisites.snils_is_valid("00100199800")


@pytest.mark.parametrize("raw", ["112-233-445 96", "1122334459", "1122334459a", "112233445950"])
def test_snils_otherwise_is_invalid(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalize_snils(raw)
    assert refused.value.errors[0].code == ErrorCode.INVALID
    assert refused.value.errors[0].field == ("child", "snils")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("IV-АБ", "IV-АБ"),
        (" iv - аб ", "IV-АБ"),
        ("XIV–ЮЯ", "XIV-ЮЯ"),  # an en dash
        ("ХІ-АБ", "XI-АБ"),  # Cyrillic Х and І typed in the numeral
        ("IV-AB", "IV-АВ"),  # Latin A and B typed in the letters
        ("MCM-ЖЁ", "MCM-ЖЁ"),
    ],
)
def test_birth_certificate_series_is_normalised(raw: str, clean: str) -> None:
    assert normalize_birth_cert_series(raw) == clean


@pytest.mark.parametrize("raw", ["IIII-АБ", "IV-А1", "IVАБ", "IV-АБВ", "Q-АБ", "-АБ", "IV-"])
def test_other_series_are_invalid(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalize_birth_cert_series(raw)
    assert refused.value.errors[0].field == ("child", "birthCertificate", "series")


@pytest.mark.parametrize(("raw", "ok"), [("643", True), ("112", True), ("999", False), ("64", False), ("RUS", False)])
def test_citizenship_is_an_oksm_code(raw: str, ok: bool) -> None:
    if ok:
        assert normalize_citizenship(raw) == raw
    else:
        with pytest.raises(DomainError):
            normalize_citizenship(raw)


# --- due dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "due", "extended_due"),
    [
        # the New Year holidays (Dec 31 and Jan 1–8, 2027) are skipped
        (dt.date(2026, 12, 30), dt.date(2027, 1, 15), dt.date(2027, 1, 22)),
        # a plain week: Friday to Friday
        (dt.date(2026, 11, 27), dt.date(2026, 12, 4), dt.date(2026, 12, 11)),
        # May 2026: May 9 falls on Saturday and moves to Monday, May 11
        (dt.date(2026, 5, 8), dt.date(2026, 5, 18), dt.date(2026, 5, 25)),
        # submitted on a Sunday: counting starts on Monday
        (dt.date(2026, 11, 29), dt.date(2026, 12, 4), dt.date(2026, 12, 11)),
    ],
)
async def test_due_dates_count_working_days(
    session: AsyncSession, submitted: dt.date, due: dt.date, extended_due: dt.date
) -> None:
    assert await due_date(session, submitted, extended=False) == due
    assert await due_date(session, submitted, extended=True) == extended_due


async def test_a_stored_override_moves_the_due_date(session: AsyncSession) -> None:
    # given a regional day off stored as data on Tuesday, Dec 1
    override = await make_calendar_override(session, date=dt.date(2026, 12, 1), is_working=False)
    await session.commit()
    try:
        # then a Friday submission is due a day later
        assert await due_date(session, dt.date(2026, 11, 27), extended=False) == dt.date(2026, 12, 7)
    finally:  # calendar overrides are reference data: the clean-up between tests keeps them
        await session.delete(override)
        await session.commit()


def test_the_pure_calendar_agrees() -> None:
    assert WorkingCalendar().add_working_days(dt.date(2026, 12, 30), 5) == dt.date(2027, 1, 15)


# --- submission -------------------------------------------------------------------------------


async def _draft(session: AsyncSession, **kw: object) -> Application:
    app = await make_application(session, **kw)
    await make_application_attachment(session, application_id=app.id)
    return app


async def test_submission_on_december_30_is_due_on_january_15(session: AsyncSession, app_services: AppServices) -> None:
    draft = await _draft(session)
    await session.commit()
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        app = await submit_application(
            tx,
            actor=actor_of(draft.applicant_id),
            application_id=draft.id,
            now=dt.datetime(2026, 12, 30, 9, 0, tzinfo=dt.UTC),
        )
        assert app.number == "ED-2026-000001"
        assert app.due_on == dt.date(2027, 1, 15)
        assert app.status == S.SUBMITTED


async def test_the_school_time_zone_decides_the_day_and_the_year(
    session: AsyncSession, app_services: AppServices
) -> None:
    # given a school in Vladivostok (UTC+10)
    school = await make_school(session, timezone="Asia/Vladivostok")
    draft = await _draft(session, school_id=school.id)
    await session.commit()
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        # when submitted at 15:00 UTC on Dec 31, 2026: already Jan 1, 2027 there
        app = await submit_application(
            tx,
            actor=actor_of(draft.applicant_id),
            application_id=draft.id,
            now=dt.datetime(2026, 12, 31, 15, 0, tzinfo=dt.UTC),
        )
    # then the number is of 2027 and the due date counts from Jan 1
    assert app.number == "ED-2027-000001"
    assert app.due_on == dt.date(2027, 1, 15)


async def test_concurrent_submissions_never_share_a_number(session: AsyncSession, app_services: AppServices) -> None:
    drafts = [await _draft(session) for _ in range(6)]
    await session.commit()

    async def submit(draft: Application) -> str:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            app = await submit_application(tx, actor=actor_of(draft.applicant_id), application_id=draft.id)
            assert app.number is not None
            return app.number

    numbers = await asyncio.gather(*(submit(d) for d in drafts))
    year = dt.datetime.now(dt.UTC).year
    assert sorted(numbers) == [f"ED-{year}-{n:06d}" for n in range(1, 7)]


async def test_submission_reports_every_problem_at_once(session: AsyncSession, app_services: AppServices) -> None:
    # given a draft with no child names, a bad SNILS and no scan
    school = await make_school(session)
    draft = await make_application(
        session,
        school_id=school.id,
        class_id=None,
        child_last_name=None,
        child_first_name=None,
        child_snils="11223344596",
    )
    await session.commit()
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        with pytest.raises(DomainError) as refused:
            await submit_application(tx, actor=actor_of(draft.applicant_id), application_id=draft.id)
    fields = {(e.field, e.code) for e in refused.value.errors}
    assert fields == {
        (("child", "lastName"), ErrorCode.REQUIRED),
        (("child", "firstName"), ErrorCode.REQUIRED),
        (("child", "snils"), ErrorCode.INVALID),
        (("classId",), ErrorCode.REQUIRED),
        (("attachments",), ErrorCode.REQUIRED),
    }


# --- reminders ------------------------------------------------------------------------------


async def test_school_admins_are_told_of_overdue_applications(session: AsyncSession, app_services: AppServices) -> None:
    school = await make_school(session)
    admin = await make_school_admin(session, school_id=school.id)
    late = await make_application(session, school_id=school.id, status=S.ACCEPTED, due_on=dt.date(2026, 12, 1))
    # not overdue: due today, already decided, waiting for the parent
    await make_application(session, school_id=school.id, status=S.SUBMITTED, due_on=dt.date(2026, 12, 3))
    await make_application(session, school_id=school.id, status=S.REJECTED, due_on=dt.date(2026, 11, 1))
    await make_application(session, school_id=school.id, status=S.NEEDS_CORRECTION, due_on=dt.date(2026, 11, 1))
    other_admin = await make_school_admin(session)
    await session.commit()

    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        sent = await notify_overdue(tx, now=dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC))
    assert sent == 1
    notes = (await session.scalars(select(Notification).where(Notification.user_id == admin.id))).all()
    assert len(notes) == 1
    assert notes[0].kind == NotificationKind.APPLICATION_STATUS
    assert late.number is not None
    assert late.number in notes[0].body
    assert notes[0].body.count("ED-") == 1
    assert (await session.scalars(select(Notification).where(Notification.user_id == other_admin.id))).all() == []


async def test_only_a_confirmed_account_may_start_a_draft(session: AsyncSession, app_services: AppServices) -> None:
    user = await make_user(session, status=UserStatus.TEMPORARY)
    await session.commit()
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        with pytest.raises(DomainError) as refused:
            await create_application(
                tx,
                actor=Actor(user_id=user.id, session_id=None, status=UserStatus.TEMPORARY),
                data=ApplicationData(),
            )
    assert refused.value.code == ErrorCode.ACCOUNT_NOT_CONFIRMED


async def test_admins_review_only_their_school(session: AsyncSession, app_services: AppServices) -> None:
    app = await make_application(session, status=S.SUBMITTED)
    other = await make_school(session)
    await session.commit()
    assert app.school_id is not None
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        with pytest.raises(DomainError) as refused:
            await review_application(tx, actor=admin_actor(999_999, other.id), application_id=app.id, action=A.ACCEPT)
    assert refused.value.code == ErrorCode.NOT_FOUND
