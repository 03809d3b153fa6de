"""regions and settlements(regionCode, query): the public directory over real HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.services.directory import load_directory
from tests.support import GraphQLClient

REGIONS = "{ regions { id code name kind } }"
SETTLEMENTS = """query($r: String!, $q: String, $first: Int, $after: String) {
  settlements(regionCode: $r, query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name kind region { code name } }
  }
}"""


async def _settlements(gql: GraphQLClient, region: str, query: str | None = None, **kw: Any) -> dict[str, Any]:
    data = await gql.data(SETTLEMENTS, {"r": region, "q": query, **kw})
    result: dict[str, Any] = data["settlements"]
    return result


async def test_all_89_subjects_with_their_official_codes_for_anyone(gql: GraphQLClient) -> None:
    # when an anonymous client asks for the regions
    regions = (await gql.data(REGIONS))["regions"]
    # then all 89 subjects come, by code, with the codes of official documents
    assert len(regions) == 89
    by_code = {r["code"]: r for r in regions}
    assert [r["code"] for r in regions] == sorted(by_code)
    assert by_code["01"]["name"] == "Республика Адыгея"
    assert by_code["77"] == {
        "id": to_base64("Region", "77"),
        "code": "77",
        "name": "Москва",
        "kind": "город федерального значения",
    }
    assert by_code["89"]["kind"] == "автономный округ"
    assert by_code["79"]["kind"] == "автономная область"
    assert {by_code[c]["name"] for c in ("90", "91", "92", "93", "94", "95")} == {
        "Запорожская область",
        "Республика Крым",
        "Севастополь",
        "Донецкая Народная Республика",
        "Луганская Народная Республика",
        "Херсонская область",
    }
    assert {r["kind"] for r in regions} == {
        "республика",
        "край",
        "область",
        "город федерального значения",
        "автономная область",
        "автономный округ",
    }


async def test_every_region_has_its_administrative_centre(session: AsyncSession) -> None:
    with_places = set((await session.scalars(select(Settlement.region_code).distinct())).all())
    assert set((await session.scalars(select(Region.code))).all()) <= with_places


async def test_moscow_includes_zelenograd_troitsk_and_shcherbinka(gql: GraphQLClient) -> None:
    names = {n["name"] for n in (await _settlements(gql, "77", first=50))["nodes"]}
    assert {"Москва", "Зеленоград", "Троицк", "Щербинка"} <= names


async def test_a_prefix_finds_a_name_whatever_the_case_and_e_or_yo(gql: GraphQLClient) -> None:
    # when the prefix is typed with ё, with е, or in capitals
    for typed in ("королё", "короле", "КОРОЛЕ"):
        found = await _settlements(gql, "50", typed)
        # then Королёв is found, spelled as it is (test factories may add namesakes to region 50)
        assert "Королёв" in [n["name"] for n in found["nodes"]], typed
        assert all("короле" in n["name"].lower().replace("ё", "е") for n in found["nodes"])
        korolev = next(n for n in found["nodes"] if n["name"] == "Королёв")
        assert korolev["kind"] == "город"
        assert korolev["region"] == {"code": "50", "name": "Московская область"}


async def test_a_prefix_matches_any_word_of_the_name_names_starting_with_it_first(gql: GraphQLClient) -> None:
    # "посад" starts a later word of Сергиев Посад and Павловский Посад
    names = [n["name"] for n in (await _settlements(gql, "50", "посад"))["nodes"]]
    assert {"Павловский Посад", "Сергиев Посад"} <= set(names)
    # a later word of a two-word name
    assert [n["name"] for n in (await _settlements(gql, "52", "новг"))["nodes"]] == ["Нижний Новгород"]
    # a hyphenated name: Ростов-на-Дону by "дону"
    assert [n["name"] for n in (await _settlements(gql, "61", "дону"))["nodes"]] == ["Ростов-на-Дону"]
    # a fragment inside a word is not a prefix
    assert (await _settlements(gql, "66", "ральск"))["nodes"] == []


async def test_whole_name_matches_come_before_word_matches(gql: GraphQLClient) -> None:
    found = await _settlements(gql, "66", "п")
    assert [n["name"] for n in found["nodes"]] == ["Первоуральск", "Полевской", "Верхняя Пышма"]


async def test_settlements_are_paged_by_cursor(gql: GraphQLClient) -> None:
    # the 47 towns of Sverdlovsk Oblast, 10 a page
    first = await _settlements(gql, "66", first=10)
    assert first["totalCount"] == 47
    assert first["pageInfo"]["hasNextPage"] is True
    seen = [n["id"] for n in first["nodes"]]
    names = [n["name"] for n in first["nodes"]]
    after = first["pageInfo"]["endCursor"]
    while after is not None:
        page = await _settlements(gql, "66", first=10, after=after)
        seen += [n["id"] for n in page["nodes"]]
        names += [n["name"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert len(seen) == len(set(seen)) == 47
    assert names[0] == "Алапаевск"
    assert names[-1] == "Туринск"
    assert "Екатеринбург" in names


async def test_an_unknown_region_code_is_refused(gql: GraphQLClient) -> None:
    body = await gql.post(SETTLEMENTS, {"r": "00"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["message"] == "Регион с таким кодом не найден"


async def test_settlements_and_regions_are_nodes(gql: GraphQLClient) -> None:
    [korolev] = (await _settlements(gql, "50", "королев"))["nodes"]
    data = await gql.data(
        "query($a: ID!, $b: ID!) { a: node(id: $a) { ... on Settlement { name } } "
        "b: node(id: $b) { ... on Region { name } } }",
        {"a": korolev["id"], "b": to_base64("Region", "16")},
    )
    assert data == {"a": {"name": "Королёв"}, "b": {"name": "Республика Татарстан"}}


async def test_loading_again_adds_nothing_and_keeps_rows_others_made(session: AsyncSession) -> None:
    # given the directory already loaded (the live server did) and a row made by someone else
    before = await session.scalar(select(func.count()).select_from(Settlement))
    # when it is loaded again
    stats = await load_directory(session)
    await session.commit()
    # then nothing is added or changed
    assert (stats.regions_added, stats.settlements_added, stats.settlements_updated) == (0, 0, 0)
    assert await session.scalar(select(func.count()).select_from(Settlement)) == before
