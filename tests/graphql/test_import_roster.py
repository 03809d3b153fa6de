"""importRoster over real HTTP (multipart): dry runs, bad rows, XLSX, refusals, and cost."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.roster_import_support import EXAMPLES, ORDER, add_quarter, snapshot
from tests.school_setup_support import World, build_world, token
from tests.support import GraphQLClient, StatementCounter

IMPORT = """mutation($i: ImportRosterInput!) {
  importRoster(input: $i) {
    applied
    summary { entity created updated unchanged }
    problems { file line column code message }
    userErrors { field code message }
  }
}"""
CSV = "text/csv"


def _examples(*names: str) -> list[tuple[str, bytes, str]]:
    return [(f"{n}.csv", (EXAMPLES / f"{n}.csv").read_bytes(), CSV) for n in names or ORDER]


async def _import(
    gql: GraphQLClient, w: World, files: list[tuple[str, bytes, str]], *, dry_run: bool, tok: str
) -> dict[str, Any]:
    variables = {"i": {"schoolId": w.school_gid, "files": [None] * len(files), "dryRun": dry_run}}
    response = await gql.upload(IMPORT, variables, {f"i.files.{n}": f for n, f in enumerate(files)}, token=tok)
    body: dict[str, Any] = response.json()
    return body


async def _ready(session: AsyncSession) -> World:
    w = await build_world(session)
    await add_quarter(session, w.year)
    await session.commit()
    return w


async def test_dry_run_reports_what_would_happen_and_changes_nothing(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school ready for the example files
    w = await _ready(session)
    before = await snapshot(session)
    # when its admin checks them with a dry run
    body = await _import(gql, w, _examples(), dry_run=True, tok=await token(gql, w.admin))
    # then the summary says what would be created, and nothing is
    payload = body["data"]["importRoster"]
    assert payload["applied"] is False
    assert payload["problems"] == []
    assert {s["entity"]: s["created"] for s in payload["summary"]} == {
        "subjects": 5, "teachers": 3, "classes": 3, "children": 8, "guardians": 4, "timetable": 12,
    }  # fmt: skip
    assert await snapshot(session) == before


async def test_real_run_twice_leaves_the_same_data(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await _ready(session)
    admin = await token(gql, w.admin)
    first = (await _import(gql, w, _examples(), dry_run=False, tok=admin))["data"]["importRoster"]
    assert first["applied"] is True
    once = await snapshot(session)
    second = (await _import(gql, w, _examples(), dry_run=False, tok=admin))["data"]["importRoster"]
    assert second["applied"] is True
    assert all(s["created"] == 0 and s["updated"] == 0 for s in second["summary"])
    assert await snapshot(session) == once
    # and the imported class is there through the API, with its children
    q = "query($id: ID!) { node(id: $id) { ... on School { classes { name sourcedId children { fullName } } } } }"
    data = await gql.data(q, {"id": w.school_gid}, token=admin)
    assert [(c["name"], len(c["children"])) for c in data["node"]["classes"]] == [("5А", 3), ("5Б", 2), ("6А", 3)]


async def test_three_bad_rows_are_reported_exactly_and_nothing_changes(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given the example children with three rows spoiled: a bad SNILS, a date, an unknown class
    w = await _ready(session)
    lines = (EXAMPLES / "children.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("123-456-014 24", "123-456-014 25")
    lines[4] = lines[4].replace("2015-11-11", "31.02.2015")
    lines[7] = lines[7].replace("CL-6A", "CL-9Z")
    spoiled = ("children.csv", ("\n".join(lines) + "\n").encode(), CSV)
    before = await snapshot(session)
    files = [*_examples("subjects", "teachers", "classes"), spoiled, *_examples("guardians", "timetable")]
    # when the admin runs the import for real
    payload = (await _import(gql, w, files, dry_run=False, tok=await token(gql, w.admin)))["data"]["importRoster"]
    # then exactly those three lines are reported, with their columns, and nothing is applied
    assert payload["applied"] is False
    assert [(p["file"], p["line"], p["column"], p["code"]) for p in payload["problems"]] == [
        ("children.csv", 3, "snils", "INVALID"),
        ("children.csv", 5, "birthDate", "INVALID"),
        ("children.csv", 8, "classSourcedId", "NOT_FOUND"),
    ]
    assert await snapshot(session) == before


async def test_every_kind_of_bad_cell_is_found(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await _ready(session)
    subjects = "sourcedId,name,shortName\nS1,Математика,\nS1,Физика,\nbad id,Химия,\nS3,,\n".encode()
    timetable = (
        "sourcedId,classSourcedId,period,weekday,lessonNumber,start,end,subjectSourcedId,teacherSourcedId,room\n"
        "X1,NOPE,9,Вс,1,25:00,08:00,S404,T404,\n"
    ).encode()
    unknown = ("pupils.csv", b"a,b\n1,2\n", CSV)
    files = [("subjects.csv", subjects, CSV), ("timetable.csv", timetable, CSV), unknown]
    payload = (await _import(gql, w, files, dry_run=True, tok=await token(gql, w.admin)))["data"]["importRoster"]
    got = {(p["file"], p["line"], p["column"], p["code"]) for p in payload["problems"]}
    assert got == {
        ("pupils.csv", None, None, "INVALID"),
        ("subjects.csv", 3, "sourcedId", "DUPLICATE"),
        ("subjects.csv", 4, "sourcedId", "INVALID"),
        ("subjects.csv", 5, "name", "REQUIRED"),
        ("timetable.csv", 2, "classSourcedId", "NOT_FOUND"),
        ("timetable.csv", 2, "period", "INVALID"),
        ("timetable.csv", 2, "start", "INVALID"),
        ("timetable.csv", 2, "subjectSourcedId", "NOT_FOUND"),
        ("timetable.csv", 2, "teacherSourcedId", "NOT_FOUND"),
    }


async def test_xlsx_files_import_like_csv(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await _ready(session)
    admin = await token(gql, w.admin)
    xlsx = ("teachers.xlsx", (EXAMPLES / "xlsx" / "teachers.xlsx").read_bytes(), "application/octet-stream")
    payload = (await _import(gql, w, [xlsx], dry_run=False, tok=admin))["data"]["importRoster"]
    assert payload["applied"] is True
    assert payload["summary"] == [{"entity": "teachers", "created": 3, "updated": 0, "unchanged": 0}]
    # the same teachers from the CSV are the same people: nothing new
    again = (await _import(gql, w, _examples("teachers"), dry_run=False, tok=admin))["data"]["importRoster"]
    assert again["summary"] == [{"entity": "teachers", "created": 0, "updated": 0, "unchanged": 3}]


async def test_xlsx_bad_rows_name_their_sheet_rows(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await _ready(session)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sourcedId", "name", "shortName"])
    sheet.append(["S1", "Математика", "Мат."])
    sheet.append(["S2", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    files = [("subjects.xlsx", buffer.getvalue(), "application/octet-stream")]
    payload = (await _import(gql, w, files, dry_run=True, tok=await token(gql, w.admin)))["data"]["importRoster"]
    assert [(p["line"], p["column"], p["code"]) for p in payload["problems"]] == [(3, "name", "REQUIRED")]


@pytest.mark.parametrize("who", ["teacher", "other_admin", "parent", "operator"])
async def test_only_the_schools_admin_or_integrator_may_import(
    gql: GraphQLClient, session: AsyncSession, who: str
) -> None:
    w = await _ready(session)
    before = await snapshot(session)
    body = await _import(gql, w, _examples(), dry_run=False, tok=await token(gql, getattr(w, who)))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(session) == before


async def test_the_schools_integrator_may_import(gql: GraphQLClient, session: AsyncSession) -> None:
    w = await _ready(session)
    body = await _import(gql, w, _examples("subjects"), dry_run=False, tok=await token(gql, w.integrator))
    assert body["data"]["importRoster"]["applied"] is True


async def test_statement_count_does_not_grow_with_rows(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    # given classes to enrol into
    w = await _ready(session)
    admin = await token(gql, w.admin)
    classes = ("classes.csv", "sourcedId,academicYear,level,letter\nCL-5A,2026/2027,5,А\n".encode(), CSV)
    assert (await _import(gql, w, [classes], dry_run=False, tok=admin))["data"]["importRoster"]["applied"]

    def children_csv(start: int, count: int) -> tuple[str, bytes, str]:
        header = "sourcedId,lastName,firstName,birthDate,sex,birthCertSeries,birthCertNumber,classSourcedId"
        rows = [f"K{n},Иванов,Пётр,2015-03-14,М,I-АА,{n:06d},CL-5A" for n in range(start, start + count)]
        return ("children.csv", ("\n".join([header, *rows]) + "\n").encode(), CSV)

    # when 10 children are imported, then 1,000
    with sql_counter:
        small = (await _import(gql, w, [children_csv(1, 10)], dry_run=False, tok=admin))["data"]["importRoster"]
    few = sql_counter.count
    with sql_counter:
        large = (await _import(gql, w, [children_csv(100, 1000)], dry_run=False, tok=admin))["data"]["importRoster"]
    # then both apply, with the same number of statements
    assert small["problems"] == []
    assert small["summary"][0]["created"] == 10
    assert large["summary"][0]["created"] == 1000
    assert sql_counter.count == few
    # and re-importing the 1,000 unchanged rows costs no more either
    with sql_counter:
        again = (await _import(gql, w, [children_csv(100, 1000)], dry_run=False, tok=admin))["data"]["importRoster"]
    assert again["summary"][0]["unchanged"] == 1000
    assert sql_counter.count <= few
