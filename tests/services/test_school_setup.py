"""School setup as services, and the policy rules it rests on (each case)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.enums import PeriodKind, Sex, StaffRole, UserStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services.school_setup.academic_years import DateRange, NewAcademicYear, create_academic_year
from ediary_gql.services.school_setup.children import ChildData, CleanChild, clean_child
from ediary_gql.services.school_setup.classes import check_class_letter
from ediary_gql.services.school_setup.enrolment import enroll_child
from ediary_gql.services.school_setup.subjects import parse_weight
from tests.factories import make_child, make_school_class
from tests.school_setup_support import World, build_world

SCHOOL, OTHER, CHILD = 1, 2, 10
TODAY = dt.date(2026, 11, 28)


def _actor(*memberships: tuple[int, StaffRole], **kw: object) -> Actor:
    return Actor(user_id=99, session_id=1, status=UserStatus.CONFIRMED, memberships=frozenset(memberships), **kw)  # type: ignore[arg-type]


# --- policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "sees_child", "sees_documents"),
    [
        (_actor(guardian_of=frozenset({CHILD})), True, True),
        (_actor(student_child_id=CHILD), True, True),
        (_actor((SCHOOL, StaffRole.SCHOOL_ADMIN)), True, True),
        (_actor((SCHOOL, StaffRole.TEACHER)), True, False),
        (_actor(is_operator=True), True, False),
        (_actor((SCHOOL, StaffRole.INTEGRATOR)), False, False),
        (_actor((OTHER, StaffRole.SCHOOL_ADMIN)), False, False),
        (_actor(guardian_of=frozenset({CHILD + 1})), False, False),
        (None, False, False),
    ],
)
def test_who_sees_a_child_and_their_documents(actor: Actor | None, sees_child: bool, sees_documents: bool) -> None:
    schools = frozenset({SCHOOL})
    assert policy.can_view_child(actor, CHILD, school_ids=schools) is sees_child
    assert policy.can_view_child_documents(actor, CHILD, school_ids=schools) is sees_documents


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (_actor((SCHOOL, StaffRole.SCHOOL_ADMIN)), True),
        (_actor((SCHOOL, StaffRole.TEACHER)), False),
        (_actor((SCHOOL, StaffRole.INTEGRATOR)), False),
        (_actor((OTHER, StaffRole.SCHOOL_ADMIN)), False),
        (_actor(is_operator=True), False),
        (None, False),
    ],
)
def test_only_the_schools_admin_sets_it_up(actor: Actor | None, allowed: bool) -> None:
    assert policy.can_set_up_school(actor, SCHOOL) is allowed


def test_integrators_may_import_but_not_set_up() -> None:
    integrator = _actor((SCHOOL, StaffRole.INTEGRATOR))
    assert policy.can_import_roster(integrator, SCHOOL)
    assert not policy.can_import_roster(integrator, OTHER)
    assert not policy.can_import_roster(_actor((SCHOOL, StaffRole.TEACHER)), SCHOOL)


def test_families_see_the_structure_of_their_childs_school_only() -> None:
    parent = _actor(guardian_of=frozenset({CHILD}))
    assert policy.can_view_school_structure(parent, SCHOOL, family_school_ids=frozenset({SCHOOL}))
    assert not policy.can_view_school_structure(parent, OTHER, family_school_ids=frozenset({SCHOOL}))
    assert not policy.can_view_class_roster(parent, SCHOOL)
    assert policy.can_view_class_roster(_actor((SCHOOL, StaffRole.TEACHER)), SCHOOL)


# --- services ---------------------------------------------------------------------------


def _admin(w: World) -> Actor:
    return Actor(
        user_id=w.admin.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(w.school.id, StaffRole.SCHOOL_ADMIN)}),
    )


async def test_trimesters_need_three_periods(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    spans = [(dt.date(2027, 9, 1), dt.date(2027, 11, 30)), (dt.date(2027, 12, 1), dt.date(2028, 2, 28))]
    data = NewAcademicYear(
        school_id=w.school.id,
        name="2027/2028",
        starts_on=dt.date(2027, 9, 1),
        ends_on=dt.date(2028, 5, 31),
        period_kind=PeriodKind.TRIMESTER,
        periods=[DateRange(f"{n} триместр", s, e) for n, (s, e) in enumerate(spans, 1)],
    )
    with pytest.raises(DomainError) as refused:
        await create_academic_year(session, actor=_admin(w), data=data)
    assert [(e.field, e.code) for e in refused.value.errors] == [(("periods",), ErrorCode.INVALID)]
    await session.rollback()


async def test_enrolment_finds_a_known_child_by_birth_certificate(app_services: object, session: AsyncSession) -> None:
    # given a child the school already holds (say, from an application) and a class
    w = await build_world(session)
    known = await make_child(
        session, snils=None, birth_cert_series="III-ЖА", birth_cert_number="123456", school_id=w.school.id
    )
    klass = await make_school_class(session, academic_year_id=w.year.id)
    await session.commit()
    data = ChildData(
        last_name=known.last_name,
        first_name=known.first_name,
        middle_name=known.middle_name,
        birth_date=known.birth_date,
        sex=Sex(known.sex),
        cert_series="iii-жа",
        cert_number="123456",
    )
    # when the admin enrols "them"
    enrollment = await enroll_child(
        session, actor=_admin(w), class_id=klass.id, child=data, starts_on=dt.date(2026, 9, 1), today=TODAY
    )
    # then the known child is enrolled: no second record
    assert enrollment.child_id == known.id
    await session.commit()
    rows = (await session.scalars(select(Enrollment).where(Enrollment.child_id == known.id))).all()
    assert len(rows) == 1


async def test_a_known_number_with_another_name_is_a_conflict(app_services: object, session: AsyncSession) -> None:
    w = await build_world(session)
    known = await make_child(session, last_name="Сидоров", school_id=w.school.id)
    klass = await make_school_class(session, academic_year_id=w.year.id)
    await session.commit()
    assert known.snils is not None
    data = ChildData(
        last_name="Петров",
        first_name="Иван",
        middle_name=None,
        birth_date=known.birth_date,
        sex=Sex.MALE,
        snils=known.snils,
    )
    with pytest.raises(DomainError) as refused:
        await enroll_child(
            session, actor=_admin(w), class_id=klass.id, child=data, starts_on=dt.date(2026, 9, 1), today=TODAY
        )
    assert refused.value.errors[0].code is ErrorCode.CONFLICT
    assert refused.value.errors[0].field == ("child", "snils")
    await session.rollback()


def _clean(**given: Any) -> CleanChild:
    """Пётр Иванов, born 14.03.2015, with what `given` adds or replaces."""
    fields: dict[str, Any] = {
        "last_name": "Иванов",
        "first_name": "Пётр",
        "middle_name": None,
        "birth_date": dt.date(2015, 3, 14),
        "sex": Sex.MALE,
    }
    return clean_child(ChildData(**(fields | given)), today=TODAY)


def test_clean_child_reports_fields_by_their_graphql_paths() -> None:
    clean = _clean(cert_series="IV-АК", cert_number=None, cert_issued_on=dt.date(2014, 1, 1))
    assert [(f, c) for f, c, _ in clean.problems] == [
        ("birthCertificate.number", ErrorCode.REQUIRED),
        ("birthCertificate.issuedOn", ErrorCode.INVALID),
    ]


def test_weights_and_letters() -> None:
    assert str(parse_weight("1,5")) == "1.50"
    for bad in ("0", "-1", "100", "1.234", "abc"):
        with pytest.raises(DomainError):
            parse_weight(bad)
    assert check_class_letter("б") == "Б"
    for bad in ("A", "АБ", "", "1"):
        with pytest.raises(DomainError):
            check_class_letter(bad)


@pytest.mark.parametrize(("citizenship", "ok"), [("643", True), ("112", True), ("999", False), ("64", False)])
def test_citizenship_is_a_country_of_the_oksm_list(citizenship: str, ok: bool) -> None:
    clean = _clean(citizenship=citizenship)
    assert [(f, c) for f, c, _ in clean.problems] == ([] if ok else [("citizenship", ErrorCode.INVALID)])
