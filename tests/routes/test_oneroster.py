"""OneRoster 1.2 rostering over real HTTP, with an integration's token of the
client-credentials grant: every collection listed and read by sourcedId, paging with
X-Total-Count and Link, sort, filter, fields, the spec's error payloads, masked contacts,
and the refusals (no token, a person's token, no roster:read, a revoked integration,
another school's records). The statements of a page do not grow with its limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.services.public_ids import global_id
from tests.diary_writes_support import PASSWORD
from tests.factories.children import make_enrollment
from tests.factories.classes import make_school_class
from tests.factories.schools import make_school_admin
from tests.integration_support import create_integration, integration_token
from tests.support import GraphQLClient, StatementCounter
from tests.sync_support import SyncWorld, make_sync_world

BASE = "/ims/oneroster/rostering/v1p2"
COLLECTIONS = (
    ("orgs", "orgs", "org"),
    ("schools", "orgs", "org"),
    ("academicSessions", "academicSessions", "academicSession"),
    ("classes", "classes", "class"),
    ("courses", "courses", "course"),
    ("users", "users", "user"),
    ("students", "users", "user"),
    ("teachers", "users", "user"),
    ("enrollments", "enrollments", "enrollment"),
)
REVOKE = "mutation($i: IntegrationInput!) { revokeIntegration(input: $i) { userErrors { code } } }"


@dataclass
class Roster:
    sw: SyncWorld
    token: str  # the school's integration, roster:read
    integration_id: str
    other_token: str  # the other school's integration, roster:read
    other_school_id: int


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _integration(gql: GraphQLClient, school_id: int, admin: str, scopes: list[str]) -> tuple[str, str]:
    made = await create_integration(gql, school_id=school_id, admin_token=admin, scopes=scopes)
    assert made["userErrors"] == [], made["userErrors"]
    return await integration_token(gql.http, made["clientId"], made["clientSecret"]), made["integration"]["id"]


@pytest.fixture
async def roster(session: AsyncSession, gql: GraphQLClient) -> Roster:
    sw = await make_sync_world(session)
    # the other school: a class under the same sourcedId as ours, a child, its own integration
    other_school = (await make_school_class(session)).school_id
    other_class = await make_school_class(session, school_id=other_school, external_id="CLS-1")
    await make_enrollment(session, class_id=other_class.id)
    foreign_admin = await make_school_admin(session, password=PASSWORD, school_id=other_school)
    await session.commit()
    token, integration_id = await _integration(gql, sw.school.id, await sw.token(gql, sw.admin), ["roster:read"])
    other_admin = await gql.sign_in(foreign_admin.email or "", PASSWORD)
    other_token, _ = await _integration(gql, other_school, other_admin, ["roster:read"])
    return Roster(sw, token, integration_id, other_token, other_school)


async def get(http: httpx.AsyncClient, path: str, token: str | None, **params: Any) -> httpx.Response:
    return await http.get(BASE + path, params=params, headers=auth(token) if token else {})


def minor(response: httpx.Response) -> str:
    body = response.json()
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_severity"] == "error"
    assert body["imsx_description"]
    value: str = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    return value


async def test_an_integration_lists_the_students_of_its_school(gql: GraphQLClient, roster: Roster) -> None:
    sw = roster.sw
    response = await get(gql.http, "/students", roster.token)
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"] == "2"
    users = response.json()["users"]
    assert {u["sourcedId"] for u in users} == {"STU-1", "STU-2"}
    first = next(u for u in users if u["sourcedId"] == "STU-1")
    assert first["familyName"] == sw.child.last_name
    assert first["givenName"] == sw.child.first_name
    assert first["status"] == "active"
    assert first["dateLastModified"].endswith("Z")
    assert first["roles"][0]["role"] == "student"
    school_sid = global_id("School", sw.school.id)
    assert first["roles"][0]["org"]["sourcedId"] == school_sid
    assert first["roles"][0]["org"]["href"].endswith(f"{BASE}/orgs/{school_sid}")
    assert first["grades"] == [f"{sw.school_class.level:02d}"]
    # no personal documents or birth dates over OneRoster users
    assert not {"birthDate", "snils"} & set(first)


@pytest.mark.parametrize(("path", "list_key", "one_key"), COLLECTIONS)
async def test_every_collection_lists_and_reads_one_by_sourced_id(
    gql: GraphQLClient, roster: Roster, path: str, list_key: str, one_key: str
) -> None:
    listed = await get(gql.http, f"/{path}", roster.token)
    assert listed.status_code == 200, listed.text
    items = listed.json()[list_key]
    assert items
    assert int(listed.headers["X-Total-Count"]) == len(items)
    for item in items:
        one = await get(gql.http, f"/{path}/{item['sourcedId']}", roster.token)
        assert one.status_code == 200, one.text
        assert one.json() == {one_key: item}
    missing = await get(gql.http, f"/{path}/NO-SUCH-ID", roster.token)
    assert missing.status_code == 404
    assert minor(missing) == "unknownobject"


async def test_records_use_external_sourced_ids_and_references(gql: GraphQLClient, roster: Roster) -> None:
    sw = roster.sw
    classes = (await get(gql.http, "/classes", roster.token)).json()["classes"]
    assert [c["sourcedId"] for c in classes] == ["CLS-1"]
    assert classes[0]["classType"] == "homeroom"
    assert classes[0]["terms"][0]["sourcedId"] == global_id("AcademicYear", sw.year.id)
    courses = (await get(gql.http, "/courses", roster.token)).json()["courses"]
    assert [c["sourcedId"] for c in courses] == ["SUB-MATH"]
    sessions = (await get(gql.http, "/academicSessions", roster.token)).json()["academicSessions"]
    year = next(s for s in sessions if s["type"] == "schoolYear")
    term = next(s for s in sessions if s["sourcedId"] == global_id("Period", sw.period.id))
    assert [c["sourcedId"] for c in year["children"]] == [term["sourcedId"]]
    assert term["parent"]["sourcedId"] == year["sourcedId"]
    assert year["schoolYear"] == str(sw.year.ends_on.year)
    enrollments = (await get(gql.http, "/enrollments", roster.token)).json()["enrollments"]
    pairs = {(e["role"], e["user"]["sourcedId"], e["class"]["sourcedId"]) for e in enrollments}
    assert pairs == {("student", "STU-1", "CLS-1"), ("student", "STU-2", "CLS-1"), ("teacher", "T-1", "CLS-1")}
    student = next(e for e in enrollments if e["user"]["sourcedId"] == "STU-1")
    assert student["user"]["type"] == "user"
    assert student["class"]["href"].endswith(f"{BASE}/classes/CLS-1")
    assert student["beginDate"] == sw.year.starts_on.isoformat()


async def test_teachers_contacts_are_masked(gql: GraphQLClient, roster: Roster) -> None:
    sw = roster.sw
    teachers = (await get(gql.http, "/teachers", roster.token)).json()["users"]
    assert {t["sourcedId"] for t in teachers} == {"T-1", "T-2"}
    teacher = next(t for t in teachers if t["sourcedId"] == "T-1")
    assert teacher["roles"][0]["role"] == "teacher"
    assert sw.teacher.email
    assert teacher["email"] != sw.teacher.email
    assert teacher["email"].startswith(sw.teacher.email[0] + "***@")
    if sw.teacher.phone:
        assert teacher["phone"] != sw.teacher.phone
        assert "***" in teacher["phone"]
    # what the mask hides cannot be probed by a filter or a sort
    for params in ({"filter": f"email='{sw.teacher.email}'"}, {"sort": "phone"}):
        refused = await get(gql.http, "/teachers", roster.token, **params)
        assert refused.status_code == 400
        assert minor(refused) in ("invalid_filter_field", "invalid_sort_field")


async def test_paging_with_total_and_links(gql: GraphQLClient, roster: Roster, session: AsyncSession) -> None:
    await roster.sw.children(session, 23)  # 25 students
    page = await get(gql.http, "/students", roster.token, limit=10, offset=20, sort="sourcedId")
    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "25"
    assert len(page.json()["users"]) == 5
    links = page.headers["Link"]
    assert 'rel="prev"' in links
    assert 'rel="next"' not in links
    assert 'rel="first"' in links
    assert "offset=10" in links
    assert "sort=sourcedId" in links
    first = await get(gql.http, "/students", roster.token, limit=10)
    assert 'rel="next"' in first.headers["Link"]
    assert "offset=10" in first.headers["Link"]
    everything = await get(gql.http, "/students", roster.token, limit=5000)
    assert len(everything.json()["users"]) == 25  # a limit above the largest page is capped
    seen = [
        u["sourcedId"]
        for offset in (0, 10, 20)
        for u in (await get(gql.http, "/students", roster.token, limit=10, offset=offset)).json()["users"]
    ]
    assert len(seen) == len(set(seen)) == 25
    for bad in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"orderBy": "up"}):
        refused = await get(gql.http, "/students", roster.token, **bad)
        assert refused.status_code == 400
        assert minor(refused) == "invaliddata"


async def test_sort(gql: GraphQLClient, roster: Roster, session: AsyncSession) -> None:
    await roster.sw.children(session, 8)
    up = [u["sourcedId"] for u in (await get(gql.http, "/students", roster.token, sort="sourcedId")).json()["users"]]
    assert up == sorted(up)
    assert len(up) == 10
    down = await get(gql.http, "/students", roster.token, sort="sourcedId", orderBy="desc")
    assert [u["sourcedId"] for u in down.json()["users"]] == up[::-1]
    refused = await get(gql.http, "/students", roster.token, sort="nickname")
    assert refused.status_code == 400
    assert minor(refused) == "invalid_sort_field"


async def test_filter(gql: GraphQLClient, roster: Roster, session: AsyncSession) -> None:
    sw = roster.sw
    await sw.children(session, 10)  # STU-3 … STU-12, named Номер3 … Номер12

    async def sids(path: str, expression: str) -> set[str]:
        response = await get(gql.http, path, roster.token, filter=expression)
        assert response.status_code == 200, response.text
        return {u["sourcedId"] for u in response.json()["users"]}

    assert await sids("/students", f"familyName='{sw.child.last_name}'") >= {"STU-1"}
    assert await sids("/students", "givenName='Номер3'") == {"STU-3"}
    assert await sids("/students", "givenName~'омер1'") == {"STU-10", "STU-11", "STU-12"}
    assert await sids("/students", "givenName='Номер3' OR sourcedId='STU-4'") == {"STU-3", "STU-4"}
    assert await sids("/students", "givenName~'Номер' AND sourcedId!='STU-5'") == {
        f"STU-{n}" for n in range(3, 13) if n != 5
    }
    assert await sids("/users", "role='teacher'") == {"T-1", "T-2"}
    assert len(await sids("/students", "dateLastModified>'2000-01-01T00:00:00Z'")) == 12
    assert await sids("/students", "dateLastModified<'2000-01-01'") == set()
    by_gid = global_id("School", sw.school.id)
    orgs = await get(gql.http, "/orgs", roster.token, filter=f"sourcedId='{by_gid}'")
    assert [o["sourcedId"] for o in orgs.json()["orgs"]] == [by_gid]
    sessions = await get(gql.http, "/academicSessions", roster.token, filter="type='schoolYear'")
    assert [s["type"] for s in sessions.json()["academicSessions"]] == ["schoolYear"]
    started = await get(gql.http, "/enrollments", roster.token, filter=f"beginDate>='{sw.year.starts_on}'")
    assert {e["role"] for e in started.json()["enrollments"]} == {"student"}

    for expression, code in (
        ("nickname='x'", "invalid_filter_field"),
        ("givenName='a' AND nickname='x'", "invalid_filter_field"),
        ("givenName=x", "invaliddata"),
        ("givenName='a' AND givenName='b' AND givenName='c'", "invaliddata"),
        ("dateLastModified>'yesterday'", "invaliddata"),
    ):
        refused = await get(gql.http, "/students", roster.token, filter=expression)
        assert refused.status_code == 400, expression
        assert minor(refused) == code, expression


async def test_fields_select_what_is_returned(gql: GraphQLClient, roster: Roster) -> None:
    listed = await get(gql.http, "/students", roster.token, fields="sourcedId,familyName")
    assert all(set(u) == {"sourcedId", "familyName"} for u in listed.json()["users"])
    one = await get(gql.http, "/classes/CLS-1", roster.token, fields="title")
    assert one.json() == {"class": {"title": roster.sw.school_class.name}}
    for fields in ("sourcedId,nickname", "sourcedId,", ""):
        refused = await get(gql.http, "/students", roster.token, fields=fields)
        assert refused.status_code == 400, fields
        assert minor(refused) == "invalid_selection_field"


async def test_another_schools_records_are_never_seen(gql: GraphQLClient, roster: Roster) -> None:
    sw = roster.sw
    # the other school's integration: its own class CLS-1, never ours, and none of our children
    theirs = await get(gql.http, "/classes/CLS-1", roster.other_token)
    assert theirs.status_code == 200
    assert theirs.json()["class"]["school"]["sourcedId"] == global_id("School", roster.other_school_id)
    for path in (
        f"/students/{global_id('Child', sw.child.id)}",
        "/students/STU-1",
        f"/orgs/{global_id('School', sw.school.id)}",
        "/teachers/T-1",
        "/courses/SUB-MATH",
        f"/academicSessions/{global_id('AcademicYear', sw.year.id)}",
    ):
        refused = await get(gql.http, path, roster.other_token)
        assert refused.status_code == 404, path
        assert minor(refused) == "unknownobject"
    students = (await get(gql.http, "/students", roster.other_token)).json()["users"]
    assert len(students) == 1
    assert students[0]["roles"][0]["org"]["sourcedId"] == global_id("School", roster.other_school_id)
    orgs = (await get(gql.http, "/orgs", roster.other_token)).json()["orgs"]
    assert [o["sourcedId"] for o in orgs] == [global_id("School", roster.other_school_id)]


async def test_refusals(gql: GraphQLClient, roster: Roster, session: AsyncSession) -> None:
    sw = roster.sw
    anonymous = await get(gql.http, "/students", None)
    assert anonymous.status_code == 401
    assert minor(anonymous) == "unauthorisedrequest"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    garbage = await get(gql.http, "/students", "not-a-token")
    assert garbage.status_code == 401
    # a person's token, even the school admin's, is no integration's
    for person in (sw.admin, sw.teacher, sw.parent):
        refused = await get(gql.http, "/students/STU-1", await sw.token(gql, person))
        assert refused.status_code == 403
        assert minor(refused) == "forbidden"
    # an integration of the school without roster:read
    writer, _ = await _integration(gql, sw.school.id, await sw.token(gql, sw.admin), ["grades:write"])
    refused = await get(gql.http, "/students", writer)
    assert refused.status_code == 403
    assert minor(refused) == "forbidden"
    # a token asked for with fewer scopes than the integration holds reads only what it was granted
    made = await create_integration(
        gql, school_id=sw.school.id, admin_token=await sw.token(gql, sw.admin), scopes=["roster:read", "diary:read"]
    )
    narrow = await integration_token(gql.http, made["clientId"], made["clientSecret"], ["diary:read"])
    refused = await get(gql.http, "/students", narrow)
    assert refused.status_code == 403
    assert minor(refused) == "forbidden"
    # revoked: its tokens stop at once
    revoked = await gql.data(
        REVOKE, {"i": {"integrationId": roster.integration_id}}, token=await sw.token(gql, sw.admin)
    )
    assert revoked["revokeIntegration"]["userErrors"] == []
    after = await get(gql.http, "/students", roster.token)
    assert after.status_code == 401
    assert minor(after) == "unauthorisedrequest"


@pytest.mark.parametrize("path", ["/students", "/users", "/enrollments", "/academicSessions", "/classes"])
async def test_a_pages_statements_do_not_grow_with_its_limit(
    gql: GraphQLClient, roster: Roster, session: AsyncSession, sql_counter: StatementCounter, path: str
) -> None:
    await roster.sw.children(session, 30)
    counts = []
    for limit in (2, 40):
        with sql_counter:
            response = await get(gql.http, path, roster.token, limit=limit)
        assert response.status_code == 200
        counts.append(sql_counter.count)
    # the token, the count, the page (and the terms of the school years on it)
    assert counts[0] == counts[1] <= 4, sql_counter.statements
