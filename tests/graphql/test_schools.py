"""schools(filter) and school(id) over real HTTP: search by name or INN, who sees what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.enums import LaunchMode, SchoolStatus, SchoolType
from ediary_gql.db.models.geo import Settlement
from ediary_gql.db.models.schools import School
from tests.factories import make_school, make_teacher, make_user
from tests.graphql.test_review_school import operator_token
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
SEARCH = """query($f: SchoolFilter, $first: Int, $after: String) {
  schools(filter: $f, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { shortName inn status }
  }
}"""


async def search(gql: GraphQLClient, token: str | None = None, **flt: Any) -> list[str]:
    data = await gql.data(SEARCH, {"f": flt}, token=token)
    return [n["shortName"] for n in data["schools"]["nodes"]]


async def _place(session: AsyncSession, region: str, name: str) -> int:
    stmt = select(Settlement.id).where(Settlement.region_code == region, Settlement.name == name)
    return int((await session.scalars(stmt.order_by(Settlement.id).limit(1))).one())


async def _school(session: AsyncSession, full: str, short: str, **kw: Any) -> School:
    return await make_school(session, full_name=full, short_name=short, **kw)


async def test_a_fragment_typed_with_e_finds_a_name_with_yo(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school whose name has "ё"
    await _school(session, "Гимназия имени С. П. Королёва", "Гимназия им. Королёва")
    await _school(session, "Лицей № 2", "Лицей № 2")
    await session.commit()
    # when someone types "королев" (or in capitals, or with ё)
    for typed in ("королев", "КОРОЛЕВ", "Королёв", "им. корол"):
        # then the school is found
        assert await search(gql, query=typed) == ["Гимназия им. Королёва"], typed


async def test_an_inn_finds_its_school(gql: GraphQLClient, session: AsyncSession) -> None:
    school = await _school(session, "Средняя школа № 3", "СОШ № 3")
    await _school(session, "Средняя школа № 4", "СОШ № 4")
    await session.commit()
    assert await search(gql, query=school.inn) == ["СОШ № 3"]
    assert await search(gql, query=f" {school.inn[:4]} {school.inn[4:]} ") == ["СОШ № 3"]


async def test_results_come_by_relevance_then_name(gql: GraphQLClient, session: AsyncSession) -> None:
    # given names where "лицей" starts the name, starts a later word, or sits inside a word
    await _school(session, "Школа «Полицейский кадетский корпус»", "Кадетский корпус")  # inside a word
    await _school(session, "Лицей № 9", "Лицей № 9")  # starts the name
    await _school(session, "Гимназия и лицей № 5", "Гимназия-лицей № 5")  # a later word
    await _school(session, "Лицей № 1", "Лицей № 1")  # starts the name
    await session.commit()
    assert await search(gql, query="лицей") == ["Лицей № 1", "Лицей № 9", "Гимназия-лицей № 5", "Кадетский корпус"]


async def test_search_pages_by_cursor_in_the_same_order(gql: GraphQLClient, session: AsyncSession) -> None:
    for n in range(1, 8):
        await _school(session, f"Школа № {n} города Королёва", f"Школа № {n}")
    await _school(session, "Королёвская гимназия", "Королёвская гимназия")
    await session.commit()
    seen: list[str] = []
    after = None
    while True:
        data = (await gql.data(SEARCH, {"f": {"query": "королев"}, "first": 3, "after": after}))["schools"]
        assert data["totalCount"] == 8
        seen += [n["shortName"] for n in data["nodes"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == ["Королёвская гимназия", *(f"Школа № {n}" for n in range(1, 8))]


async def test_filters_by_region_settlement_type_and_status(gql: GraphQLClient, session: AsyncSession) -> None:
    kazan = await _place(session, "16", "Казань")
    korolev = await _place(session, "50", "Королёв")
    await _school(session, "Лицей № 131", "Лицей № 131 (Казань)", settlement_id=kazan, type=SchoolType.LYCEUM)
    await _school(session, "Школа № 7", "Школа № 7 (Казань)", settlement_id=kazan)
    await _school(session, "Лицей № 19", "Лицей № 19 (Королёв)", settlement_id=korolev, type=SchoolType.LYCEUM)
    await session.commit()
    assert await search(gql, regionCode="16") == ["Лицей № 131 (Казань)", "Школа № 7 (Казань)"]
    assert await search(gql, settlementId=to_base64("Settlement", korolev)) == ["Лицей № 19 (Королёв)"]
    assert await search(gql, type="LYCEUM") == ["Лицей № 131 (Казань)", "Лицей № 19 (Королёв)"]
    assert await search(gql, type="LYCEUM", regionCode="50") == ["Лицей № 19 (Королёв)"]
    assert await search(gql, status="ACTIVE", regionCode="16", query="лицей") == ["Лицей № 131 (Казань)"]


async def test_the_public_sees_only_schools_open_to_parents(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an open school, one in test launch, a pending and a rejected registration
    registrant = await make_user(session, email="registrant@example.ru", password=PASSWORD)
    await _school(session, "Школа А", "Школа А")
    in_test = await _school(session, "Школа Б", "Школа Б", launch_mode=LaunchMode.TEST)
    await _school(session, "Школа В", "Школа В", status=SchoolStatus.PENDING, registered_by_id=registrant.id)
    await _school(session, "Школа Г", "Школа Г", status=SchoolStatus.REJECTED, registered_by_id=registrant.id)
    await make_teacher(session, school=in_test, email="teacher@example.ru", password=PASSWORD)
    await make_user(session, email="parent@example.ru", password=PASSWORD)
    await session.commit()
    operator = await operator_token(session, gql)
    parent = await gql.sign_in("parent@example.ru", PASSWORD)
    teacher = await gql.sign_in("teacher@example.ru", PASSWORD)
    mine = await gql.sign_in("registrant@example.ru", PASSWORD)
    # then anonymous clients and parents find only the open one, whatever the status filter
    for token in (None, parent):
        assert await search(gql, token, query="школа") == ["Школа А"]
        assert await search(gql, token, status="PENDING") == []
    # the test launch school's staff also find their school
    assert await search(gql, teacher, query="школа") == ["Школа А", "Школа Б"]
    # the registrant also finds her own pending and rejected registrations
    assert await search(gql, mine, query="школа") == ["Школа А", "Школа В", "Школа Г"]
    # operators find every school and filter by status
    assert await search(gql, operator, query="школа") == ["Школа А", "Школа Б", "Школа В", "Школа Г"]
    assert await search(gql, operator, status="PENDING") == ["Школа В"]


async def test_school_by_id_follows_the_same_rules(gql: GraphQLClient, session: AsyncSession) -> None:
    in_test = await _school(session, "Школа Б", "Школа Б", launch_mode=LaunchMode.TEST)
    await make_teacher(session, school=in_test, email="teacher@example.ru", password=PASSWORD)
    await session.commit()
    teacher = await gql.sign_in("teacher@example.ru", PASSWORD)
    query = "query($id: ID!) { school(id: $id) { shortName launchMode diaryUid region { code } } }"
    gid = to_base64("School", in_test.id)
    assert (await gql.data(query, {"id": gid}, token=teacher))["school"] == {
        "shortName": "Школа Б",
        "launchMode": "TEST",
        "diaryUid": in_test.diary_uid,
        "region": {"code": "99"},  # the factories' test region
    }
    assert (await gql.data(query, {"id": gid}))["school"] is None
    assert (await gql.data(query, {"id": to_base64("Settlement", 1)}))["school"] is None


async def test_a_too_long_query_is_refused(gql: GraphQLClient) -> None:
    body = await gql.post(SEARCH, {"f": {"query": "ш" * 101}})
    assert body["errors"][0]["extensions"] == {"code": "TOO_LONG", "field": ["query"]}


async def test_search_statement_count_does_not_grow_with_rows(
    gql: GraphQLClient, session: AsyncSession, sql_counter: Any
) -> None:
    for n in range(1, 4):
        await _school(session, f"Школа № {n}", f"Школа № {n}")
    await session.commit()
    query = "{ schools(first: 50) { nodes { shortName settlement { name } region { name } } } }"
    with sql_counter:
        await gql.data(query)
    few = sql_counter.count
    for n in range(4, 12):
        await _school(session, f"Школа № {n}", f"Школа № {n}")
    await session.commit()
    with sql_counter:
        data = await gql.data(query)
    assert len(data["schools"]["nodes"]) == 11
    assert sql_counter.count == few
