"""Reports end to end, over real HTTP: each kind × scope is asked for with requestReport in
each format, a worker makes them, the requester downloads each file from its downloadUrl
with the bearer token, and independent parsers read it back (pypdf, openpyxl, the csv
module, html.parser). The figures are compared with the diary's own: Child.averages and
gradeStatistics for progress, attendanceStatistics for attendance."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pypdf
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.diary_writes_support import gid
from tests.services.reports.document_support import Diary, make_diary
from tests.support import GraphQLClient

REQUEST = """
mutation($i: RequestReportInput!) {
  requestReport(input: $i) { report { id status kind scope format } userErrors { field code message } }
}"""
MY_REPORTS = """
query { myReports(first: 10) { totalCount edges { node {
  id kind scope format status error downloadUrl fileName byteSize targetName targetId
} } } }"""
AVERAGES = """
query($id: ID!, $p: ID!) { node(id: $id) { ... on Child { fullName averages(periodId: $p) {
  subject { name } average weightedAverage count } } } }"""
GRADE_STATS = """
query($c: ID!, $p: ID!) { gradeStatistics(classId: $c, periodId: $p) {
  subjects { subjectName average weightedAverage count } } }"""
ATTENDANCE_STATS = """
query($s: ID, $c: ID, $from: Date!, $to: Date!, $g: AttendanceGroupBy!) {
  attendanceStatistics(schoolId: $s, classId: $c, from: $from, to: $to, groupBy: $g) {
    groups { label counts { lessons marked present absent late excused sick attendanceRate } } } }"""

FORMATS = ["PDF", "HTML", "XLSX", "CSV"]
COMBINATIONS = [(k, s) for k in ("PROGRESS", "ATTENDANCE") for s in ("CHILD", "CLASS", "SCHOOL")]


@dataclass(frozen=True)
class Expected:
    """What a report must show: these labels in one row, and these figures in it, in order
    (a subsequence of the row's numbers)."""

    labels: tuple[str, ...]
    figures: tuple[Decimal, ...]
    share_at: int | None = None  # the index in `figures` of an attendance share (percent points)


def _dec(value: float | int, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _percent(rate: float) -> Decimal:
    return _dec(rate * 100, "0.1")


async def _expected(gql: GraphQLClient, diary: Diary, tokens: dict[str, str]) -> dict[tuple[str, str], Expected]:
    """The diary's own figures for each kind × scope, read through the API."""
    w = diary.world
    period = gid("Period", w.period.id)
    child = (await gql.data(AVERAGES, {"id": gid("Child", w.child.id), "p": period}, token=tokens["CHILD"]))["node"]
    [maths] = [a for a in child["averages"] if a["subject"]["name"] == w.subject.name]
    maths_figures = (Decimal(maths["count"]), _dec(maths["average"]), _dec(maths["weightedAverage"]))
    stats = await gql.data(
        GRADE_STATS, {"c": gid("SchoolClass", w.school_class.id), "p": period}, token=tokens["SCHOOL"]
    )
    [class_maths] = [s for s in stats["gradeStatistics"]["subjects"] if s["subjectName"] == w.subject.name]
    dates = {"from": w.period.starts_on.isoformat(), "to": w.period.ends_on.isoformat()}
    by_child = await gql.data(
        ATTENDANCE_STATS,
        {"c": gid("SchoolClass", w.school_class.id), "g": "CHILD", **dates},
        token=tokens["CLASS"],
    )
    [mine] = [g for g in by_child["attendanceStatistics"]["groups"] if g["label"] == child["fullName"]]
    by_class = await gql.data(
        ATTENDANCE_STATS, {"s": gid("School", w.school.id), "g": "CLASS", **dates}, token=tokens["SCHOOL"]
    )
    [ours] = [g for g in by_class["attendanceStatistics"]["groups"] if g["label"] == w.school_class.name]

    def marks(c: dict[str, Any], *, lessons: bool) -> tuple[Decimal, ...]:
        keys = (["lessons"] if lessons else []) + ["marked", "present", "absent", "late", "excused", "sick"]
        return (*(Decimal(c[k]) for k in keys), _percent(c["attendanceRate"]))

    child_marks = marks(mine["counts"], lessons=False)
    return {
        ("PROGRESS", "CHILD"): Expected((w.subject.name,), maths_figures),
        ("PROGRESS", "CLASS"): Expected((child["fullName"], w.subject.name), maths_figures),
        ("PROGRESS", "SCHOOL"): Expected(
            (w.school_class.name, w.subject.name),
            (Decimal(class_maths["count"]), _dec(class_maths["average"]), _dec(class_maths["weightedAverage"])),
        ),
        ("ATTENDANCE", "CHILD"): Expected((), child_marks, share_at=6),
        ("ATTENDANCE", "CLASS"): Expected((child["fullName"],), child_marks, share_at=6),
        ("ATTENDANCE", "SCHOOL"): Expected((w.school_class.name,), marks(ours["counts"], lessons=True), share_at=7),
    }


# --- reading the files back, each with a parser of its own ---------------------------------


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _number(cell: Any) -> Decimal | None:
    """A cell's number, as each format writes it: 4,20 / 4.20 / 50,0 % / a float."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int | float):
        return Decimal(str(cell))
    text = str(cell).replace("\xa0", " ").replace("%", "").strip().replace(",", ".")
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


def _rows(fmt: str, content: bytes) -> tuple[list[list[Any]], str]:
    """Every table row of the file (its cells as the parser gives them), and its whole text."""
    if fmt == "CSV":
        text = content.decode("utf-8-sig")
        assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
        return list(csv.reader(io.StringIO(text), delimiter=";")), text
    if fmt == "XLSX":
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        rows = [list(r) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]
        return rows, " ".join(str(c) for r in rows for c in r if c is not None)
    if fmt == "HTML":
        parser = _Tables()
        parser.feed(content.decode("utf-8"))
        parser.close()
        return parser.rows, " ".join("".join(parser.text).split())
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [], " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())


def _is_subsequence(wanted: list[Decimal], found: list[Decimal]) -> bool:
    rest = iter(found)
    return all(any(abs(f - w) < Decimal("0.000001") for f in rest) for w in wanted)


def _check(fmt: str, content: bytes, expected: Expected, child_name: str | None) -> None:
    rows, text = _rows(fmt, content)
    if child_name is not None:
        assert child_name in text
    figures = list(expected.figures)
    if fmt == "PDF":
        # the text only: the names and the figures as a Russian reader sees them
        for label in expected.labels:
            assert label in text
        for n, figure in enumerate(figures):
            shown = (f"{figure:.1f}" if n == expected.share_at else str(figure)).replace(".", ",")
            assert shown in text, (shown, text)
        return
    if fmt == "XLSX" and expected.share_at is not None:
        figures[expected.share_at] = figures[expected.share_at] / 100  # a percent cell holds the share
    matching = [
        row
        for row in rows
        if all(any(str(c or "").strip() == label for c in row) for label in expected.labels)
        and _is_subsequence(figures, _numbers(row))
    ]
    assert matching, (fmt, expected, rows)


def _numbers(row: list[Any]) -> list[Decimal]:
    return [n for n in (_number(c) for c in row) if n is not None]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_kind_and_scope_in_each_format_holds_the_diarys_figures(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings, fmt: str
) -> None:
    diary = await make_diary(session)
    w = diary.world
    requesters = {"CHILD": w.parent, "CLASS": w.teacher, "SCHOOL": w.admin}
    tokens = {scope: await w.token(gql, user) for scope, user in requesters.items()}
    targets = {
        "CHILD": gid("Child", w.child.id),
        "CLASS": gid("SchoolClass", w.school_class.id),
        "SCHOOL": gid("School", w.school.id),
    }
    for kind, scope in COMBINATIONS:
        asked = await gql.data(
            REQUEST,
            {
                "i": {
                    "kind": kind,
                    "scope": scope,
                    "targetId": targets[scope],
                    "periodId": gid("Period", w.period.id),
                    "format": fmt,
                }
            },
            token=tokens[scope],
        )
        assert asked["requestReport"]["userErrors"] == []
        assert asked["requestReport"]["report"]["status"] == "QUEUED"

    worker = ReportWorker.from_settings(settings, app_services.session_factory, bus=app_services.bus)
    assert await worker.drain() == len(COMBINATIONS)

    expected = await _expected(gql, diary, tokens)
    for scope, token in tokens.items():
        mine = (await gql.data(MY_REPORTS, token=token))["myReports"]
        assert mine["totalCount"] == 2  # only the requester's own
        for edge in mine["edges"]:
            report = edge["node"]
            assert report["status"] == "READY", report
            assert (report["scope"], report["format"]) == (scope, fmt)
            assert report["targetId"] == targets[scope]
            response = await gql.http.get(report["downloadUrl"], headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            assert len(response.content) == report["byteSize"]
            # a school's report names no child
            name = None if scope == "SCHOOL" else w.child.full_name
            _check(fmt, response.content, expected[(report["kind"], scope)], name)
