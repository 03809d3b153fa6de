"""Input no row can match answers as bad input, never as an internal error: IDs beyond the
signed 64-bit range (schema/node.py, db/ids.py) and strings with NUL (schema/strings.py)."""

from __future__ import annotations

import base64
import json

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from tests.diary_support import PASSWORD, build_school, gid, token
from tests.factories import make_staff_membership, make_user
from tests.support import GraphQLClient, StatementCounter

HUGE = 99999999999999999999  # beyond 2**63 - 1
INT64_MAX = 2**63 - 1


def raw_gid(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def no_fault_logged() -> object:
    with capture_logs() as logs:
        yield logs
    faults = [entry for entry in logs if entry.get("log_level") in ("error", "critical")]
    assert faults == [], faults


# --- IDs beyond int64 ------------------------------------------------------------------


@pytest.mark.usefixtures("no_fault_logged")
async def test_reads_by_an_id_beyond_int64_are_null(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, children=1, weeks=0)
    teacher = await token(gql, world.teacher)
    query = """query($c: ID!, $s: ID!, $a: ID!) {
      node(id: $c) { id } nodes(ids: [$c, $s]) { id } child(id: $c) { id } school(id: $s) { id }
      application(id: $a) { id } }"""
    for number in (HUGE, INT64_MAX + 1, 10**40):
        variables = {"c": gid("Child", number), "s": gid("School", number), "a": gid("Application", number)}
        data = await gql.data(query, variables, token=teacher)
        assert data == {"node": None, "nodes": [None, None], "child": None, "school": None, "application": None}
    # the largest id there can be is an ordinary missing row
    variables = {"c": gid("Child", INT64_MAX), "s": gid("School", INT64_MAX), "a": gid("Application", INT64_MAX)}
    data = await gql.data(query, variables, token=teacher)
    assert data["node"] is None


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_mutation_input_id_beyond_int64_is_a_user_error(gql: GraphQLClient, session: AsyncSession) -> None:
    user = await make_user(session, password=PASSWORD)
    await session.commit()
    assert user.email is not None
    signed_in = await gql.sign_in(user.email, PASSWORD)
    data = await gql.data(
        """mutation($i: MarkNotificationsReadInput!) {
          markNotificationsRead(input: $i) { marked userErrors { field code } } }""",
        {"i": {"ids": [gid("Notification", HUGE)]}},
        token=signed_in,
    )
    assert data["markNotificationsRead"]["userErrors"] == [{"field": ["ids"], "code": "INVALID"}]

    refreshed = await gql.data(
        "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken userErrors { field code } } }",
        {"i": {"refreshToken": f"{HUGE}.secret"}},
    )
    assert refreshed["refreshToken"]["userErrors"] == [{"field": ["refreshToken"], "code": "TOKEN_INVALID"}]


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_cursor_with_a_number_beyond_int64_is_invalid(gql: GraphQLClient) -> None:
    for values in ([HUGE, HUGE], ["a\x00b", 1]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        body = await gql.post(
            'query($c: String) { settlements(regionCode: "77", after: $c) { totalCount } }', {"c": cursor}
        )
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": ["after"]}


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_region_id_with_a_nul_is_no_region(gql: GraphQLClient) -> None:
    data = await gql.data("query($r: ID!) { node(id: $r) { id } }", {"r": raw_gid("Region:7\x007")})
    assert data == {"node": None}
    assert (await gql.data("query($r: ID!) { node(id: $r) { id } }", {"r": raw_gid("Region:77")}))["node"]


# --- NUL in strings ----------------------------------------------------------------------


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_search_with_nul_is_refused_naming_the_argument(
    gql: GraphQLClient, sql_counter: StatementCounter
) -> None:
    cases = [
        ('{ settlements(regionCode: "77", query: "a\\u0000b") { totalCount } }', None, ["query"]),
        (
            'query($q: String) { settlements(regionCode: "77", query: $q) { totalCount } }',
            {"q": "мос\x00ква"},
            ["query"],
        ),
        ("query($r: String!) { settlements(regionCode: $r) { totalCount } }", {"r": "7\x007"}, ["regionCode"]),
        ("query($q: String) { schools(filter: {query: $q}) { totalCount } }", {"q": "\x00"}, ["filter", "query"]),
        (
            "query($f: SchoolFilter) { schools(filter: $f) { totalCount } }",
            {"f": {"query": "a\x00"}},
            ["filter", "query"],
        ),
        ('{ schools(filter: {query: "\\u0000"}) { totalCount } }', None, ["filter", "query"]),
    ]
    for query, variables, field in cases:
        with sql_counter:
            body = await gql.post(query, variables)
        assert body["data"] is None, query
        [error] = body["errors"]
        assert error["extensions"] == {"code": "INVALID", "field": field}, query
        assert "NUL" in error["message"]
        assert ".".join(field) in error["message"]
        assert sql_counter.count == 0  # refused before anything runs
    # the same searches without the NUL simply run
    data = await gql.data('{ settlements(regionCode: "77", query: "ab") { totalCount } }')
    assert data["settlements"]["totalCount"] == 0


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_mutation_input_with_nul_is_refused_naming_the_field(gql: GraphQLClient) -> None:
    body = await gql.post(
        "mutation($i: SignInInput!) { signIn(input: $i) { accessToken userErrors { code } } }",
        {"i": {"login": "anna\x00@example.ru", "password": "x"}},
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": ["input", "login"]}


def test_structlog_is_what_the_server_logs_with() -> None:
    # the fixture above reads the server's log through structlog: make sure it would see a fault
    with capture_logs() as logs:
        structlog.get_logger("ediary_gql.schema.errors").error("unexpected_error")
    assert logs[0]["log_level"] == "error"


# --- digits that are not ASCII -----------------------------------------------------------


@pytest.mark.usefixtures("no_fault_logged")
@pytest.mark.parametrize("snils", ["²²²²²²²²²²²", "١١٢٢٣٣٤٤٥٩٥"])
async def test_a_snils_of_other_digits_is_a_user_error(gql: GraphQLClient, session: AsyncSession, snils: str) -> None:
    # "²" and Arabic-Indic digits pass str.isdigit(), and int() or the database refused them
    world = await build_school(session, children=1, weeks=0)
    admin = await make_user(session, email="admin-digits@example.ru", password=PASSWORD)
    await make_staff_membership(session, user_id=admin.id, school_id=world.school.id, role="SCHOOL_ADMIN")
    await session.commit()
    child = {"lastName": "Иванов", "firstName": "Пётр", "birthDate": "2015-03-14", "sex": "MALE", "snils": snils}
    query = """mutation($i: EnrollChildInput!) { enrollChild(input: $i) { userErrors { field code } } }"""
    variables = {"i": {"classId": gid("SchoolClass", world.school_class.id), "child": child, "startsOn": "2026-09-01"}}
    data = await gql.data(query, variables, token=await token(gql, admin))
    assert data["enrollChild"]["userErrors"] == [{"field": ["child", "snils"], "code": "INVALID"}]


@pytest.mark.usefixtures("no_fault_logged")
async def test_a_calendar_feed_name_of_other_digits_is_not_found(gql: GraphQLClient) -> None:
    response = await gql.http.get("/calendar/c²²²²²²²²².abcdef.ics")
    assert response.status_code == 404
