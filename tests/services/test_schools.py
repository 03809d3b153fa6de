"""The schools workflows and their policy without GraphQL: diary UIDs, relevance,
who may review, open and see review details, and the directory loader."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ediary_gql.auth import policy
from ediary_gql.auth.actor import SYSTEM_ACTOR, Actor
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.enums import StaffRole, UserStatus
from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.db.models.schools import School
from ediary_gql.demo.common import ensure_moscow
from ediary_gql.services import schools as service
from ediary_gql.services.directory import load_directory, shipped_regions, shipped_settlements


def actor(user_id: int = 5, **kw: object) -> Actor:
    return Actor(user_id=user_id, session_id=1, status=UserStatus.CONFIRMED, **kw)  # type: ignore[arg-type]


def test_a_diary_uid_names_the_region_and_avoids_lookalike_characters() -> None:
    uids = {service.new_diary_uid("77") for _ in range(200)}
    assert len(uids) == 200
    for uid in uids:
        assert re.fullmatch(r"ED-77-[2-9A-Z]{4}-[2-9A-Z]{4}", uid)
        assert not set(uid[6:].replace("-", "")) & set("015ILOS")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("7701000010", 0), ("лицей", 1), ("гимназ", 2), ("цей", 3)],
)
def test_relevance_of_a_row_mirrors_the_sql_ranking(query: str, expected: int) -> None:
    school = School(inn="7701000010", name_normalized="лицей № 1 города москвы гимназия-лицей")
    assert service.relevance_of(school, query) == expected


def test_only_operators_review_registrations() -> None:
    assert policy.can_review_school(actor(is_operator=True))
    assert policy.can_review_school(SYSTEM_ACTOR)
    assert not policy.can_review_school(actor(memberships=frozenset({(1, StaffRole.SCHOOL_ADMIN)})))
    assert not policy.can_review_school(None)


def test_the_schools_admin_or_an_operator_opens_it() -> None:
    assert policy.can_open_school(actor(memberships=frozenset({(1, StaffRole.SCHOOL_ADMIN)})), 1)
    assert policy.can_open_school(actor(is_operator=True), 1)
    assert not policy.can_open_school(actor(memberships=frozenset({(2, StaffRole.SCHOOL_ADMIN)})), 1)
    assert not policy.can_open_school(actor(memberships=frozenset({(1, StaffRole.TEACHER)})), 1)
    assert not policy.can_open_school(None, 1)


def test_review_details_are_for_the_registrant_and_operators() -> None:
    assert policy.can_view_school_review(actor(5), registered_by_id=5)
    assert policy.can_view_school_review(actor(6, is_operator=True), registered_by_id=5)
    assert not policy.can_view_school_review(
        actor(6, memberships=frozenset({(1, StaffRole.SCHOOL_ADMIN)})), registered_by_id=5
    )
    assert not policy.can_view_school_review(actor(6), registered_by_id=None)
    assert not policy.can_view_school_review(None, registered_by_id=5)


def test_a_school_in_test_launch_is_seen_by_its_staff_not_the_public() -> None:
    def sees(who: Actor | None) -> bool:
        return policy.can_view_school(who, 1, is_active=True, is_open=False, registered_by_id=9)

    assert sees(actor(memberships=frozenset({(1, StaffRole.TEACHER)})))
    assert sees(actor(9))
    assert sees(actor(is_operator=True))
    assert not sees(actor(memberships=frozenset({(2, StaffRole.SCHOOL_ADMIN)})))
    assert not sees(None)
    assert policy.can_view_school(None, 1, is_active=True, is_open=True, registered_by_id=9)


def test_search_scope() -> None:
    assert policy.school_search_scope(actor(is_operator=True)) is None
    assert policy.school_search_scope(None) == (None, frozenset())
    staff = actor(7, memberships=frozenset({(3, StaffRole.TEACHER)}))
    assert policy.school_search_scope(staff) == (7, frozenset({3}))


def test_the_shipped_directory_is_complete_and_clean() -> None:
    regions = shipped_regions()
    codes = [r.code for r in regions]
    assert len(codes) == len(set(codes)) == 89
    assert {f"{n:02d}" for n in range(1, 80)} <= set(codes)
    places = shipped_settlements()
    assert {p.region_code for p in places} == set(codes)
    assert len({(p.region_code, p.name) for p in places}) == len(places)
    per_region = {code: sum(p.region_code == code for p in places) for code in ("50", "16", "66", "77", "78")}
    assert per_region["66"] == 47
    assert per_region["50"] > 70
    assert per_region["78"] == 10


def test_the_directory_loads_after_the_demo_seeds_moscow_without_duplicates(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    upgrade(url)

    async def run() -> tuple[int, int, int, int]:
        engine = create_engine(url)
        factory = create_session_factory(engine)
        try:
            async with factory() as session, session.begin():
                moscow = await ensure_moscow(session)  # the demo seed's region and settlement first
            for _ in range(2):
                async with factory() as session, session.begin():
                    await load_directory(session)
            async with factory() as session, session.begin():
                again = await ensure_moscow(session)  # and the seed again, after the directory
                moscows = await session.scalar(
                    select(func.count())
                    .select_from(Settlement)
                    .where(Settlement.region_code == "77", Settlement.name == "Москва")
                )
                regions = await session.scalar(select(func.count()).select_from(Region))
                places = await session.scalar(select(func.count()).select_from(Settlement))
            return int(moscow == again), int(moscows or 0), int(regions or 0), int(places or 0)
        finally:
            await engine.dispose()

    same, moscows, regions, places = asyncio.run(run())
    assert (same, moscows, regions) == (1, 1, 89)
    assert places == len(shipped_settlements())
