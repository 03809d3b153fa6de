"""Roster imports: CSV and XLSX files of subjects, teachers, classes, children,
guardians and weekly timetables, keyed by the school's external IDs (OneRoster
`sourcedId`), so that importing the same files again updates instead of duplicating.

Every row is checked, and every problem is reported with its file, line and
column; the rows are applied only when there is none, in the caller's one
transaction (all or nothing). Existing rows are read in bulk by sourcedId, a
handful of statements per file whatever its length: a 1,000-row file imports
in seconds. The formats are described in docs/import.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base
from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import Sex, StaffRole, UserStatus
from ediary_gql.db.models.lessons import TimetableSlot, TimetableTemplate
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import audit
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.school_setup.children import ChildData, clean_child
from ediary_gql.services.school_setup.classes import CLASS_LETTER

ENTITIES = ("subjects", "teachers", "classes", "children", "guardians", "timetable")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
CHUNK = 5_000  # ids per IN (...) list: well under every backend's parameter limit
SOURCED_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
WEEKDAYS = {"пн": 1, "вт": 2, "ср": 3, "чт": 4, "пт": 5, "сб": 6, "вс": 7}
SEXES = {"m": Sex.MALE, "male": Sex.MALE, "м": Sex.MALE, "муж": Sex.MALE,
         "f": Sex.FEMALE, "female": Sex.FEMALE, "ж": Sex.FEMALE, "жен": Sex.FEMALE}  # fmt: skip

# The columns of each file: (name, required).
COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "subjects": (("sourcedId", True), ("name", True), ("shortName", False)),
    "teachers": (
        ("sourcedId", True),
        ("lastName", True),
        ("firstName", True),
        ("middleName", False),
        ("email", False),
        ("phone", False),
    ),
    "classes": (
        ("sourcedId", True),
        ("academicYear", True),
        ("level", True),
        ("letter", True),
        ("homeroomTeacherSourcedId", False),
    ),
    "children": (
        ("sourcedId", True),
        ("lastName", True),
        ("firstName", True),
        ("middleName", False),
        ("birthDate", True),
        ("sex", True),
        ("snils", False),
        ("birthCertSeries", False),
        ("birthCertNumber", False),
        ("birthCertIssuedOn", False),
        ("citizenship", False),
        ("classSourcedId", True),
        ("enrolledOn", False),
    ),
    "guardians": (
        ("sourcedId", True),
        ("lastName", True),
        ("firstName", True),
        ("middleName", False),
        ("email", False),
        ("phone", False),
        ("childSourcedIds", True),
    ),
    "timetable": (
        ("sourcedId", True),
        ("classSourcedId", True),
        ("period", True),
        ("weekday", True),
        ("lessonNumber", True),
        ("start", True),
        ("end", True),
        ("subjectSourcedId", True),
        ("teacherSourcedId", True),
        ("room", False),
    ),
}


# --- what comes in, what goes out -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportFile:
    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    code: ErrorCode
    message: str


@dataclass(slots=True)
class Tally:
    entity: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class ImportResult:
    applied: bool
    summary: list[Tally]
    problems: list[Problem]


@dataclass(slots=True)
class Row:
    file: str
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(slots=True)
class _Run:
    """One import: the rows by entity, the problems found, what would change."""

    school_id: int
    actor: Actor
    today: dt.date
    rows: dict[str, list[Row]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)
    # set once new rows have their ids (after a flush)
    homerooms: list[tuple[SchoolClass, User]] = field(default_factory=list)
    enrollments: list[tuple[Child, SchoolClass, dt.date]] = field(default_factory=list)  # of known children

    def bad(self, row: Row, column: str | None, code: ErrorCode, message: str) -> None:
        self.problems.append(Problem(row.file, row.line, column, code, message))

    def tally(self, entity: str) -> Tally:
        return self.tallies.setdefault(entity, Tally(entity))

    def missing(self, row: Row, column: str, entity: str, sids: Sequence[str], message: str) -> None:
        """A reference that resolves to nothing. When the rows it names are in this
        import's `entity` file they are bad rows, reported there: not again here."""
        in_file = {r.get("sourcedId") for r in self.rows.get(entity, [])}
        unknown = [sid for sid in sids if sid not in in_file]
        if unknown:
            self.bad(row, column, ErrorCode.NOT_FOUND, message)


# --- reading files ------------------------------------------------------------------


def entity_of(file_name: str) -> str | None:
    stem = re.split(r"[\\/]", file_name)[-1].rsplit(".", 1)[0].strip().lower()
    return stem if stem in ENTITIES else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(file: ImportFile) -> list[list[str]]:
    """The file's rows as text cells; raises ValueError when it cannot be read."""
    if file.content[:4] == b"PK\x03\x04" or file.name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(file.content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ValueError("Файл XLSX не читается") from exc
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in r] for r in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    try:
        text = file.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = file.content.decode("cp1251", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_file(run: _Run, file: ImportFile) -> None:
    """Add the file's rows to the run, or problems when it cannot be used at all."""
    entity = entity_of(file.name)
    if entity is None:
        run.problems.append(
            Problem(file.name, None, None, ErrorCode.INVALID, f"Неизвестный файл: ожидаются {', '.join(ENTITIES)}")
        )
        return
    if entity in run.rows:
        run.problems.append(Problem(file.name, None, None, ErrorCode.DUPLICATE, "Этот файл уже передан"))
        return
    if len(file.content) > MAX_FILE_BYTES:
        run.problems.append(Problem(file.name, None, None, ErrorCode.FILE_TOO_LARGE, "Файл больше 10 МБ"))
        return
    try:
        table = _table(file)
    except ValueError as exc:
        run.problems.append(Problem(file.name, None, None, ErrorCode.INVALID, str(exc)))
        return
    if not table:
        run.problems.append(Problem(file.name, 1, None, ErrorCode.REQUIRED, "Файл пуст: нет строки заголовков"))
        return
    header = table[0]
    known = {name for name, _ in COLUMNS[entity]}
    problems = False
    for column in header:
        if column and column not in known:
            run.problems.append(Problem(file.name, 1, column, ErrorCode.INVALID, "Неизвестная колонка"))
            problems = True
    for column, required in COLUMNS[entity]:
        if required and column not in header:
            run.problems.append(Problem(file.name, 1, column, ErrorCode.REQUIRED, "Нет обязательной колонки"))
            problems = True
    if len(table) - 1 > MAX_ROWS:
        run.problems.append(Problem(file.name, None, None, ErrorCode.TOO_LONG, f"Не больше {MAX_ROWS} строк"))
        problems = True
    if problems:
        run.rows[entity] = []
        return
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        rows.append(
            Row(file.name, number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
        )
    run.rows[entity] = rows


# --- checking cells -------------------------------------------------------------------


def _required(run: _Run, row: Row, column: str, max_len: int = 200) -> str | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    if len(value) > max_len:
        run.bad(row, column, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
        return None
    return value


def _optional(run: _Run, row: Row, column: str, max_len: int = 200) -> str | None:
    value = row.get(column)
    if value and len(value) > max_len:
        run.bad(row, column, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
        return None
    return value or None


def _date(run: _Run, row: Row, column: str, *, required: bool) -> dt.date | None:
    value = row.get(column)
    if not value:
        if required:
            run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    run.bad(row, column, ErrorCode.INVALID, "Дата в виде ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    return None


def _int(run: _Run, row: Row, column: str, low: int, high: int) -> int | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        run.bad(row, column, ErrorCode.INVALID, f"Целое число от {low} до {high}")
        return None
    return int(value)


def _time(run: _Run, row: Row, column: str) -> dt.time | None:
    value = row.get(column)
    if not value:
        run.bad(row, column, ErrorCode.REQUIRED, "Заполните ячейку")
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", value)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        run.bad(row, column, ErrorCode.INVALID, "Время в виде ЧЧ:ММ")
        return None
    return dt.time(int(match[1]), int(match[2]))


def _sourced_ids(run: _Run, entity: str) -> dict[str, Row]:
    """The file's rows by sourcedId; bad and repeated ids are problems (and skipped)."""
    seen: dict[str, Row] = {}
    for row in run.rows.get(entity, []):
        sid = row.get("sourcedId")
        if not sid:
            run.bad(row, "sourcedId", ErrorCode.REQUIRED, "Заполните ячейку")
        elif not SOURCED_ID.match(sid):
            run.bad(row, "sourcedId", ErrorCode.INVALID, "Латинские буквы, цифры и . _ : -, до 64 знаков")
        elif sid in seen:
            run.bad(row, "sourcedId", ErrorCode.DUPLICATE, f"Повтор: уже в строке {seen[sid].line}")
        else:
            seen[sid] = row
    return seen


def _contacts(run: _Run, row: Row) -> tuple[str | None, str | None]:
    phone = email = None
    if row.get("phone"):
        try:
            phone = normalize_phone(row.get("phone"))
        except DomainError as exc:
            run.bad(row, "phone", exc.code, exc.errors[0].message)
    if row.get("email"):
        try:
            email = normalize_email(row.get("email"))
        except DomainError as exc:
            run.bad(row, "email", exc.code, exc.errors[0].message)
    if not row.get("phone") and not row.get("email"):
        run.bad(row, "email", ErrorCode.REQUIRED, "Укажите электронную почту или телефон")
    return phone, email


# --- bulk reads ---------------------------------------------------------------------

T = TypeVar("T", bound=Base)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def _by_external_id(session: AsyncSession, model: type[T], school_id: int, ids: Iterable[str]) -> dict[str, T]:
    found: dict[str, T] = {}
    column = model.external_id  # type: ignore[attr-defined]
    for chunk in _chunks(ids):
        rows = await session.scalars(select(model).where(model.school_id == school_id, column.in_(chunk)))  # type: ignore[attr-defined]
        found.update({r.external_id: r for r in rows})  # type: ignore[attr-defined]
    return found


async def _links(session: AsyncSession, school_id: int, kind: str, ids: Iterable[str]) -> dict[str, RosterLink]:
    found: dict[str, RosterLink] = {}
    for chunk in _chunks(ids):
        rows = await session.scalars(
            select(RosterLink).where(
                RosterLink.school_id == school_id, RosterLink.kind == kind, RosterLink.external_id.in_(chunk)
            )
        )
        found.update({r.external_id: r for r in rows})
    return found


async def _users_by_contacts(
    session: AsyncSession, phones: Iterable[str], emails: Iterable[str]
) -> tuple[dict[str, User], dict[str, User]]:
    by_phone: dict[str, User] = {}
    by_email: dict[str, User] = {}
    for chunk in _chunks(set(phones)):
        by_phone.update(
            {u.phone: u for u in await session.scalars(select(User).where(User.phone.in_(chunk))) if u.phone}
        )
    for chunk in _chunks(set(emails)):
        by_email.update(
            {u.email: u for u in await session.scalars(select(User).where(User.email.in_(chunk))) if u.email}
        )
    return by_phone, by_email


async def _by_ids(session: AsyncSession, model: type[T], ids: Iterable[int]) -> dict[int, T]:
    found: dict[int, T] = {}
    for chunk in _chunks(set(ids)):
        found.update({r.id: r for r in await session.scalars(select(model).where(model.id.in_(chunk)))})  # type: ignore[attr-defined]
    return found


def _set(row: Any, values: dict[str, Any]) -> bool:
    """Give `row` these values; True if anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


# --- the import ---------------------------------------------------------------------


async def import_roster(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    files: Sequence[ImportFile],
    dry_run: bool = True,
    today: dt.date | None = None,
) -> ImportResult:
    """Check every row of `files`; unless `dry_run`, apply them when there is no problem.

    The summary says, per entity, how many rows would be (or were) created,
    updated or left unchanged. Nothing is written on a dry run or when there is
    a problem: rows are staged in the session and the caller rolls it back
    (raise `RosterRejected`)."""
    policy.require_confirmed(actor)
    policy.ensure(
        policy.can_import_roster(actor, school_id),
        "Импортировать данные может ответственный за дневник школы или её интеграция",
    )
    if not files:
        raise DomainError(ErrorCode.REQUIRED, "Приложите хотя бы один файл", field="files")
    run = _Run(school_id=school_id, actor=actor, today=today or dt.datetime.now(dt.UTC).date())
    for file in files:
        read_file(run, file)
    # In dependency order: later files refer to earlier ones by sourcedId.
    subjects = await _subjects(session, run)
    teachers = await _teachers(session, run)
    classes = await _classes(session, run, teachers)
    children = await _children(session, run, classes)
    await _guardians(session, run, children)
    await _timetable(session, run, classes, subjects, teachers)
    await session.flush()
    summary = [run.tallies[e] for e in ENTITIES if e in run.tallies]
    applied = not dry_run and not run.problems
    if applied:
        audit.record(
            session,
            actor=actor,
            action="importRoster",
            entity_type="School",
            entity_id=school_id,
            school_id=school_id,
            after={t.entity: {"created": t.created, "updated": t.updated, "unchanged": t.unchanged} for t in summary},
        )
    return ImportResult(applied=applied, summary=summary, problems=run.problems)


async def _subjects(session: AsyncSession, run: _Run) -> dict[str, Subject]:
    rows = _sourced_ids(run, "subjects")
    existing = await _by_external_id(session, Subject, run.school_id, rows)
    names = {r.get("name") for r in rows.values() if r.get("name")}
    by_name: dict[str, Subject] = {}
    for chunk in _chunks(names):
        by_name.update(
            {
                s.name: s
                for s in await session.scalars(
                    select(Subject).where(Subject.school_id == run.school_id, Subject.name.in_(chunk))
                )
            }
        )
    result: dict[str, Subject] = {}
    seen_names: dict[str, int] = {}
    if not rows:
        return {}
    tally = run.tally("subjects")
    for sid, row in rows.items():
        name = _required(run, row, "name")
        short = _optional(run, row, "shortName", 50)
        if name is None:
            continue
        if name in seen_names:
            run.bad(row, "name", ErrorCode.DUPLICATE, f"Такой предмет уже в строке {seen_names[name]}")
            continue
        seen_names[name] = row.line
        subject = existing.get(sid)
        holder = by_name.get(name)
        if holder is not None and holder is not subject and holder.external_id not in (None, sid):
            run.bad(row, "name", ErrorCode.DUPLICATE, "Предмет с таким названием уже есть у другого sourcedId")
            continue
        if subject is None and holder is not None:
            subject = holder  # adopt a subject made by hand
        if subject is None:
            subject = Subject(school_id=run.school_id, name=name, short_name=short, external_id=sid)
            session.add(subject)
            tally.created += 1
        elif _set(subject, {"name": name, "short_name": short, "external_id": sid}):
            tally.updated += 1
        else:
            tally.unchanged += 1
        result[sid] = subject
    return result


async def _people(
    session: AsyncSession, run: _Run, entity: str, kind: str
) -> tuple[
    dict[str, tuple[Row, str | None, str | None]],
    dict[str, RosterLink],
    dict[int, User],
    dict[str, User],
    dict[str, User],
]:
    rows = _sourced_ids(run, entity)
    checked: dict[str, tuple[Row, str | None, str | None]] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        _required(run, row, "lastName", 100)
        _required(run, row, "firstName", 100)
        _optional(run, row, "middleName", 100)
        phone, email = _contacts(run, row)
        if len(run.problems) == bad_before:
            checked[sid] = (row, phone, email)
    links = await _links(session, run.school_id, kind, rows)
    linked = await _by_ids(session, User, (link.target_id for link in links.values()))
    by_phone, by_email = await _users_by_contacts(
        session, (p for _, p, _ in checked.values() if p), (e for _, _, e in checked.values() if e)
    )
    return checked, links, linked, by_phone, by_email


def _person(
    session: AsyncSession,
    run: _Run,
    entity: str,
    kind: str,
    sid: str,
    row: Row,
    phone: str | None,
    email: str | None,
    links: dict[str, RosterLink],
    linked: dict[int, User],
    by_phone: dict[str, User],
    by_email: dict[str, User],
    claimed: dict[int, int],
) -> User | None:
    """The user of a teachers/guardians row: linked by sourcedId, else found by contact, else new."""
    link = links.get(sid)
    user = linked.get(link.target_id) if link is not None else None
    found = (by_phone.get(phone) if phone else None) or (by_email.get(email) if email else None)
    if user is None:
        user = found
    elif found is not None and found is not user:
        run.bad(
            row, "email" if email else "phone", ErrorCode.CONFLICT, "Этот контакт принадлежит другой учётной записи"
        )
        return None
    if user is not None and claimed.get(id(user), row.line) != row.line:
        run.bad(row, "sourcedId", ErrorCode.DUPLICATE, f"Тот же человек, что в строке {claimed[id(user)]}")
        return None
    names = {
        "last_name": row.get("lastName"),
        "first_name": row.get("firstName"),
        "middle_name": row.get("middleName") or None,
    }
    tally = run.tally(entity)
    if user is None:
        # A new account: no usable password until the person sets one with requestPasswordReset.
        user = User(
            phone=phone,
            email=email,
            password_hash="!" + secrets.token_hex(16),
            status=UserStatus.TEMPORARY,
            **names,
        )
        session.add(user)
        tally.created += 1
    else:
        # Contacts and names of an account of its own are the person's: only a
        # TEMPORARY account made by an import is brought up to date.
        changed = _set(user, names) if user.status == UserStatus.TEMPORARY else False
        if link is None or link.external_id != sid:
            changed = True
        tally.updated += int(changed)
        tally.unchanged += int(not changed)
    if phone:
        by_phone[phone] = user
    if email:
        by_email[email] = user
    claimed[id(user)] = row.line  # by object: a new account has no id yet
    return user


async def _link_all(
    session: AsyncSession, run: _Run, kind: str, people: dict[str, Any], links: dict[str, RosterLink]
) -> None:
    await session.flush()
    for sid, target in people.items():
        link = links.get(sid)
        if link is None:
            session.add(RosterLink(school_id=run.school_id, kind=kind, external_id=sid, target_id=target.id))
        elif link.target_id != target.id:
            link.target_id = target.id


async def _teachers(session: AsyncSession, run: _Run) -> dict[str, User]:
    if "teachers" not in run.rows:
        links = await _links(
            session,
            run.school_id,
            "TEACHER",
            _referenced(run, ("classes", "homeroomTeacherSourcedId"), ("timetable", "teacherSourcedId")),
        )
        users = await _by_ids(session, User, (link.target_id for link in links.values()))
        return {sid: users[link.target_id] for sid, link in links.items() if link.target_id in users}
    run.tally("teachers")
    checked, links, linked, by_phone, by_email = await _people(session, run, "teachers", "TEACHER")
    result: dict[str, User] = {}
    claimed: dict[int, int] = {}
    for sid, (row, phone, email) in checked.items():
        user = _person(
            session, run, "teachers", "TEACHER", sid, row, phone, email, links, linked, by_phone, by_email, claimed
        )
        if user is not None:
            result[sid] = user
    await _link_all(session, run, "TEACHER", result, links)
    # Teachers the school's admin lists are the school's teachers.
    ids = [u.id for u in result.values()]
    members: dict[int, StaffMembership] = {}
    for chunk in _chunks(ids):
        rows = await session.scalars(
            select(StaffMembership).where(
                StaffMembership.school_id == run.school_id,
                StaffMembership.role == StaffRole.TEACHER,
                StaffMembership.user_id.in_(chunk),
            )
        )
        members.update({m.user_id: m for m in rows})
    for user_id in ids:
        member = members.get(user_id)
        if member is None:
            session.add(StaffMembership(user_id=user_id, school_id=run.school_id, role=StaffRole.TEACHER, active=True))
        elif not member.active:
            member.active = True
    return result


def _referenced(run: _Run, *where: tuple[str, str]) -> set[str]:
    return {row.get(column) for entity, column in where for row in run.rows.get(entity, []) if row.get(column)}


async def _classes(session: AsyncSession, run: _Run, teachers: dict[str, User]) -> dict[str, SchoolClass]:
    rows = _sourced_ids(run, "classes")
    wanted = rows.keys() | _referenced(run, ("children", "classSourcedId"), ("timetable", "classSourcedId"))
    existing = await _by_external_id(session, SchoolClass, run.school_id, wanted)
    years = {
        y.name: y for y in await session.scalars(select(AcademicYear).where(AcademicYear.school_id == run.school_id))
    }
    result: dict[str, SchoolClass] = {sid: c for sid, c in existing.items() if sid not in rows}
    if not rows:
        return result
    tally = run.tally("classes")
    by_key: dict[tuple[int, int, str], SchoolClass] = {}
    for c in await session.scalars(
        select(SchoolClass).where(
            SchoolClass.school_id == run.school_id, SchoolClass.academic_year_id.in_([y.id for y in years.values()])
        )
    ):
        by_key[(c.academic_year_id, c.level, c.letter)] = c
    seen: dict[tuple[int, int, str], int] = {}
    for sid, row in rows.items():
        year_name = _required(run, row, "academicYear", 20)
        year = years.get(year_name or "")
        if year_name and year is None:
            run.bad(row, "academicYear", ErrorCode.NOT_FOUND, "Такого учебного года в школе нет: создайте его")
        level = _int(run, row, "level", 1, 11)
        letter = row.get("letter").upper()
        if not CLASS_LETTER.match(letter):
            run.bad(row, "letter", ErrorCode.INVALID, "Одна заглавная русская буква, например А")
            letter = ""
        homeroom = None
        homeroom_sid = row.get("homeroomTeacherSourcedId")
        if homeroom_sid:
            teacher = teachers.get(homeroom_sid)
            if teacher is None:
                run.missing(
                    row, "homeroomTeacherSourcedId", "teachers", [homeroom_sid], "Учитель с таким sourcedId не найден"
                )
                continue
            homeroom = teacher
        if year is None or level is None or not letter:
            continue
        key = (year.id, level, letter)
        if key in seen:
            run.bad(row, "letter", ErrorCode.DUPLICATE, f"Класс {level}{letter} уже в строке {seen[key]}")
            continue
        seen[key] = row.line
        klass = existing.get(sid)
        holder = by_key.get(key)
        if holder is not None and holder is not klass and holder.external_id not in (None, sid):
            run.bad(row, "letter", ErrorCode.DUPLICATE, f"Класс {level}{letter} уже есть у другого sourcedId")
            continue
        if klass is None and holder is not None:
            klass = holder
        values = {
            "academic_year_id": year.id,
            "level": level,
            "letter": letter,
            "external_id": sid,
            "homeroom_teacher": homeroom,
        }
        if klass is None:
            klass = SchoolClass(
                school_id=run.school_id, academic_year_id=year.id, level=level, letter=letter, external_id=sid
            )
            klass.homeroom_teacher_id = None
            session.add(klass)
            tally.created += 1
            result[sid] = klass
            _pending_homeroom(run, klass, homeroom)
            continue
        values.pop("homeroom_teacher")
        changed = _set(klass, values)
        if homeroom is not None and homeroom.id is not None and klass.homeroom_teacher_id != homeroom.id:
            changed = True
        _pending_homeroom(run, klass, homeroom)
        tally.updated += int(changed)
        tally.unchanged += int(not changed)
        result[sid] = klass
    await session.flush()
    for klass, teacher in run.homerooms:
        klass.homeroom_teacher_id = teacher.id
    return result


def _pending_homeroom(run: _Run, klass: SchoolClass, teacher: User | None) -> None:
    if teacher is not None:
        run.homerooms.append((klass, teacher))


async def _children(session: AsyncSession, run: _Run, classes: dict[str, SchoolClass]) -> dict[str, Child]:
    rows = _sourced_ids(run, "children")
    wanted = rows.keys() | _referenced(run, ("guardians", "childSourcedIds"))
    # guardians name children as "a;b;c"
    wanted |= {
        s.strip() for row in run.rows.get("guardians", []) for s in row.get("childSourcedIds").split(";") if s.strip()
    }
    existing = await _by_external_id(session, Child, run.school_id, wanted)
    result: dict[str, Child] = {sid: c for sid, c in existing.items() if sid not in rows}
    if not rows:
        return result
    tally = run.tally("children")
    years = await _by_ids(session, AcademicYear, {c.academic_year_id for c in classes.values()})
    checked: dict[str, tuple[Row, Any, SchoolClass, dt.date]] = {}
    seen_snils: dict[str, int] = {}
    seen_cert: dict[tuple[str, str], int] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        birth = _date(run, row, "birthDate", required=True)
        issued = _date(run, row, "birthCertIssuedOn", required=False)
        enrolled_on = _date(run, row, "enrolledOn", required=False)
        sex = SEXES.get(row.get("sex").lower())
        if sex is None:
            run.bad(row, "sex", ErrorCode.INVALID if row.get("sex") else ErrorCode.REQUIRED, "Пол: М или Ж")
        klass = classes.get(row.get("classSourcedId"))
        if row.get("classSourcedId") and klass is None:
            run.missing(
                row, "classSourcedId", "classes", [row.get("classSourcedId")], "Класс с таким sourcedId не найден"
            )
        elif not row.get("classSourcedId"):
            run.bad(row, "classSourcedId", ErrorCode.REQUIRED, "Заполните ячейку")
        if birth is None or sex is None:
            continue
        clean = clean_child(
            ChildData(
                last_name=row.get("lastName"),
                first_name=row.get("firstName"),
                middle_name=row.get("middleName") or None,
                birth_date=birth,
                sex=sex,
                snils=row.get("snils") or None,
                cert_series=row.get("birthCertSeries") or None,
                cert_number=row.get("birthCertNumber") or None,
                cert_issued_on=issued,
                citizenship=row.get("citizenship") or "643",
            ),
            today=run.today,
        )
        for key, code, message in clean.problems:
            run.bad(row, _CHILD_COLUMNS.get(key, key), code, message)
        if clean.snils:
            if clean.snils in seen_snils:
                run.bad(row, "snils", ErrorCode.DUPLICATE, f"Этот СНИЛС уже в строке {seen_snils[clean.snils]}")
            seen_snils.setdefault(clean.snils, row.line)
        if clean.cert_series and clean.cert_number:
            cert = (clean.cert_series, clean.cert_number)
            if cert in seen_cert:
                run.bad(
                    row, "birthCertNumber", ErrorCode.DUPLICATE, f"Это свидетельство уже в строке {seen_cert[cert]}"
                )
            seen_cert.setdefault(cert, row.line)
        if klass is None or len(run.problems) != bad_before:
            continue
        year = years.get(klass.academic_year_id)
        starts = enrolled_on or (year.starts_on if year else run.today)
        if year is not None and not year.starts_on <= starts <= year.ends_on:
            run.bad(row, "enrolledOn", ErrorCode.INVALID, "Дата зачисления — внутри учебного года класса")
            continue
        checked[sid] = (row, clean, klass, starts)

    # Children not known by sourcedId may be known by SNILS or birth certificate.
    snils = [c.snils for s, (_, c, _, _) in checked.items() if c.snils and s not in existing]
    certs = [
        (c.cert_series, c.cert_number) for s, (_, c, _, _) in checked.items() if c.cert_number and s not in existing
    ]
    by_snils: dict[str, Child] = {}
    by_cert: dict[tuple[str, str], Child] = {}
    for chunk in _chunks(snils):
        by_snils.update(
            {c.snils: c for c in await session.scalars(select(Child).where(Child.snils.in_(chunk))) if c.snils}
        )
    for chunk in _chunks(certs):
        found = await session.scalars(
            select(Child).where(tuple_(Child.birth_cert_series, Child.birth_cert_number).in_(chunk))
        )
        by_cert.update({(c.birth_cert_series or "", c.birth_cert_number or ""): c for c in found})
    # … and their identifiers must not belong to another child already.
    for sid, (row, clean, _, _) in list(checked.items()):
        own = existing.get(sid)
        other = by_snils.get(clean.snils or "") or by_cert.get((clean.cert_series or "", clean.cert_number or ""))
        if own is None:
            if other is not None and other.school_id == run.school_id and other.external_id not in (None, sid):
                run.bad(
                    row,
                    "snils" if clean.snils else "birthCertNumber",
                    ErrorCode.DUPLICATE,
                    "Этот ребёнок уже есть у другого sourcedId",
                )
                del checked[sid]
            continue
    # Conflicts of SNILS with other children known by sourcedId in this school.
    if checked:
        ids = {c.snils for _, c, _, _ in checked.values() if c.snils}
        for chunk in _chunks(ids):
            for known in await session.scalars(select(Child).where(Child.snils.in_(chunk))):
                by_snils.setdefault(known.snils or "", known)
        for sid, (row, clean, _, _) in list(checked.items()):
            own = existing.get(sid)
            holder = by_snils.get(clean.snils or "")
            if own is not None and holder is not None and holder is not own:
                run.bad(row, "snils", ErrorCode.DUPLICATE, "Этот СНИЛС уже у другого ребёнка")
                del checked[sid]

    open_enrollments = await _open_enrollments(
        session,
        [c.id for c in existing.values()] + [c.id for c in by_snils.values()] + [c.id for c in by_cert.values()],
    )
    new_rows: list[dict[str, Any]] = []
    new_enrolments: dict[str, tuple[SchoolClass, dt.date]] = {}
    for sid, (_row, clean, klass, starts) in checked.items():
        child = (
            existing.get(sid)
            or by_snils.get(clean.snils or "")
            or by_cert.get((clean.cert_series or "", clean.cert_number or ""))
        )
        values = {**clean.columns(), "school_id": run.school_id, "external_id": sid}
        if child is None:
            new_rows.append(values)
            new_enrolments[sid] = (klass, starts)
            tally.created += 1
            continue
        changed = _set(child, values)
        moved = _enrol_existing(run, child, klass, starts, open_enrollments.get(child.id, []))
        tally.updated += int(changed or moved)
        tally.unchanged += int(not (changed or moved))
        result[sid] = child
    await session.flush()
    # New children and enrolments go in as bulk inserts (a statement per batch, not per row).
    if new_rows:
        await session.execute(insert(Child), new_rows)
        result.update(await _by_external_id(session, Child, run.school_id, new_enrolments))
    enrolments = [
        {"child_id": result[sid].id, "class_id": klass.id, "starts_on": starts}
        for sid, (klass, starts) in new_enrolments.items()
    ]
    enrolments += [{"child_id": c.id, "class_id": k.id, "starts_on": d} for c, k, d in run.enrollments]
    if enrolments:
        await session.execute(insert(Enrollment), enrolments)
    return result


_CHILD_COLUMNS = {
    "birthCertificate.series": "birthCertSeries",
    "birthCertificate.number": "birthCertNumber",
    "birthCertificate.issuedOn": "birthCertIssuedOn",
}


async def _open_enrollments(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, list[tuple[Enrollment, int]]]:
    """Open enrolments of these children with the academic year of their class."""
    found: dict[int, list[tuple[Enrollment, int]]] = {}
    for chunk in _chunks(set(child_ids)):
        rows = await session.execute(
            select(Enrollment, SchoolClass.academic_year_id)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(Enrollment.child_id.in_(chunk), Enrollment.ends_on.is_(None))
        )
        for enrollment, year_id in rows.all():
            found.setdefault(enrollment.child_id, []).append((enrollment, year_id))
    return found


def _enrol_existing(
    run: _Run,
    child: Child,
    klass: SchoolClass,
    starts: dt.date,
    open_ones: list[tuple[Enrollment, int]],
) -> bool:
    """Make the child's open enrolment of that year be in `klass`; True if it changed.

    A child already in another class of that year is moved on the import day
    (the old enrolment ends the day before and is kept)."""
    same_year = [e for e, year_id in open_ones if year_id == klass.academic_year_id]
    if any(e.class_id == klass.id for e in same_year):
        return False
    move_on = max(run.today, starts)
    for e in same_year:
        if e.starts_on >= move_on:
            e.class_id = klass.id
            return True
        e.ends_on = move_on - dt.timedelta(days=1)
    run.enrollments.append((child, klass, move_on if same_year else starts))
    return True


async def _guardians(session: AsyncSession, run: _Run, children: dict[str, Child]) -> None:
    if "guardians" not in run.rows:
        return
    run.tally("guardians")
    checked, links, linked, by_phone, by_email = await _people(session, run, "guardians", "GUARDIAN")
    wards: dict[str, list[Child]] = {}
    for sid, (row, _, _) in list(checked.items()):
        ids = [s.strip() for s in row.get("childSourcedIds").split(";") if s.strip()]
        missing = [s for s in ids if s not in children]
        if not ids:
            run.bad(row, "childSourcedIds", ErrorCode.REQUIRED, "Укажите sourcedId детей через ;")
        elif missing:
            run.missing(row, "childSourcedIds", "children", missing, f"Нет детей с sourcedId: {', '.join(missing)}")
        if not ids or missing:
            del checked[sid]
            continue
        wards[sid] = [children[s] for s in ids]
    result: dict[str, User] = {}
    claimed: dict[int, int] = {}
    for sid, (row, phone, email) in checked.items():
        user = _person(
            session, run, "guardians", "GUARDIAN", sid, row, phone, email, links, linked, by_phone, by_email, claimed
        )
        if user is not None:
            result[sid] = user
    await _link_all(session, run, "GUARDIAN", result, links)
    pairs = {(result[sid].id, child.id) for sid in result for child in wards[sid]}
    have: set[tuple[int, int]] = set()
    for chunk in _chunks(pairs):
        rows = await session.execute(
            select(Guardianship.parent_id, Guardianship.child_id).where(
                tuple_(Guardianship.parent_id, Guardianship.child_id).in_(chunk)
            )
        )
        have.update((p, c) for p, c in rows.all())
    for parent_id, child_id in sorted(pairs - have):
        session.add(Guardianship(parent_id=parent_id, child_id=child_id))


async def _timetable(
    session: AsyncSession,
    run: _Run,
    classes: dict[str, SchoolClass],
    subjects: dict[str, Subject],
    teachers: dict[str, User],
) -> None:
    rows = _sourced_ids(run, "timetable")
    if not rows:
        return
    tally = run.tally("timetable")
    missing_subjects = {r.get("subjectSourcedId") for r in rows.values()} - subjects.keys()
    subjects = {**subjects, **await _by_external_id(session, Subject, run.school_id, missing_subjects)}
    teacher_ids = {u.id for u in teachers.values() if u.id is not None}
    active: set[int] = set()
    for chunk in _chunks(teacher_ids):
        active.update(
            await session.scalars(
                select(StaffMembership.user_id).where(
                    StaffMembership.school_id == run.school_id,
                    StaffMembership.role == StaffRole.TEACHER,
                    StaffMembership.active.is_(True),
                    StaffMembership.user_id.in_(chunk),
                )
            )
        )
    imported_teachers = set(_sourced_ids_quiet(run, "teachers"))
    year_ids = {c.academic_year_id for c in classes.values()}
    periods: dict[tuple[int, int], Period] = {}
    for chunk in _chunks(year_ids):
        for p in await session.scalars(select(Period).where(Period.academic_year_id.in_(chunk))):
            periods[(p.academic_year_id, p.number)] = p
    checked: dict[str, tuple[Row, SchoolClass, Period, dict[str, Any]]] = {}
    seen: dict[tuple[int, int, int, dt.time], int] = {}
    teacher_busy: dict[tuple[int, int, int], list[tuple[dt.time, dt.time, int]]] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        klass = classes.get(row.get("classSourcedId"))
        if klass is None:
            run.missing(
                row, "classSourcedId", "classes", [row.get("classSourcedId")], "Класс с таким sourcedId не найден"
            )
        number = _int(run, row, "period", 1, 4)
        period = periods.get((klass.academic_year_id, number)) if klass is not None and number is not None else None
        if klass is not None and number is not None and period is None:
            run.bad(row, "period", ErrorCode.NOT_FOUND, "В учебном году класса нет такого периода")
        weekday_text = row.get("weekday").lower()[:2]
        weekday = WEEKDAYS.get(weekday_text) or (int(weekday_text) if weekday_text.isdigit() else None)
        if weekday is None or not 1 <= weekday <= 7:
            run.bad(row, "weekday", ErrorCode.INVALID, "День недели: 1–7 или Пн…Вс")
        lesson_number = _int(run, row, "lessonNumber", 0, 20)
        start = _time(run, row, "start")
        end = _time(run, row, "end")
        if start is not None and end is not None and start >= end:
            run.bad(row, "end", ErrorCode.INVALID, "Урок должен заканчиваться позже, чем начинается")
        subject = subjects.get(row.get("subjectSourcedId"))
        if subject is None:
            run.missing(
                row,
                "subjectSourcedId",
                "subjects",
                [row.get("subjectSourcedId")],
                "Предмет с таким sourcedId не найден",
            )
        teacher_sid = row.get("teacherSourcedId")
        teacher = teachers.get(teacher_sid)
        if teacher is None:
            run.missing(row, "teacherSourcedId", "teachers", [teacher_sid], "Учитель с таким sourcedId не найден")
        elif teacher_sid not in imported_teachers and teacher.id not in active:
            run.bad(row, "teacherSourcedId", ErrorCode.INVALID, "Это не действующий учитель школы")
        room = _optional(run, row, "room", 32)
        if len(run.problems) != bad_before or klass is None or period is None or start is None or end is None:
            continue
        if weekday is None or lesson_number is None or subject is None or teacher is None:
            continue
        key = (id(klass), period.id, weekday, start)
        if key in seen:
            run.bad(row, "start", ErrorCode.DUPLICATE, f"В это время у класса уже урок (строка {seen[key]})")
            continue
        seen[key] = row.line
        busy = (id(teacher), period.id, weekday)
        clash = next((line for t0, t1, line in teacher_busy.get(busy, []) if start < t1 and t0 < end), None)
        if clash is not None:
            run.bad(row, "teacherSourcedId", ErrorCode.CONFLICT, f"Учитель в это время ведёт урок в строке {clash}")
            continue
        teacher_busy.setdefault(busy, []).append((start, end, row.line))
        values: dict[str, Any] = {
            "weekday": weekday,
            "lesson_number": lesson_number,
            "start_time": start,
            "end_time": end,
            "room": room,
            "subject": subject,
            "teacher": teacher,
        }
        checked[sid] = (row, klass, period, values)
    if not checked:
        return
    await session.flush()
    links = await _links(session, run.school_id, "TIMETABLE_SLOT", checked)
    slots = await _by_ids(session, TimetableSlot, (link.target_id for link in links.values()))
    pairs = {(klass.id, period.id) for _, klass, period, _ in checked.values()}
    templates: dict[tuple[int, int], TimetableTemplate] = {}
    for chunk in _chunks(pairs):
        for t in await session.scalars(
            select(TimetableTemplate)
            .where(tuple_(TimetableTemplate.class_id, TimetableTemplate.period_id).in_(chunk))
            .order_by(TimetableTemplate.id)
        ):
            templates.setdefault((t.class_id, t.period_id), t)
    for class_id, period_id in sorted(pairs - templates.keys()):
        klass = next(k for _, k, p, _ in checked.values() if k.id == class_id and p.id == period_id)
        period = next(p for _, k, p, _ in checked.values() if p.id == period_id)
        template = TimetableTemplate(
            school_id=run.school_id,
            class_id=class_id,
            period_id=period_id,
            name=f"{klass.name}, {period.name} (импорт)",
            created_by_id=run.actor.user_id,
        )
        session.add(template)
        templates[(class_id, period_id)] = template
    await session.flush()
    # Slots of these templates, to find a time taken by a slot of another sourcedId.
    taken: dict[tuple[int, int, dt.time], TimetableSlot] = {}
    template_ids = [t.id for t in templates.values()]
    for chunk in _chunks(template_ids):
        for s in await session.scalars(select(TimetableSlot).where(TimetableSlot.template_id.in_(chunk))):
            taken[(s.template_id, s.weekday, s.start_time)] = s
    new_slots: dict[str, TimetableSlot] = {}
    for sid, (row, klass, period, values) in checked.items():
        template = templates[(klass.id, period.id)]
        link = links.get(sid)
        slot = slots.get(link.target_id) if link is not None else None
        holder = taken.get((template.id, values["weekday"], values["start_time"]))
        if holder is not None and holder is not slot:
            run.bad(row, "start", ErrorCode.CONFLICT, "В это время у класса уже есть урок другого sourcedId")
            continue
        fields = {
            "template_id": template.id,
            "weekday": values["weekday"],
            "lesson_number": values["lesson_number"],
            "start_time": values["start_time"],
            "end_time": values["end_time"],
            "subject_id": values["subject"].id,
            "teacher_id": values["teacher"].id,
            "room": values["room"],
        }
        if slot is None:
            slot = TimetableSlot(**fields)
            session.add(slot)
            new_slots[sid] = slot
            tally.created += 1
        elif _set(slot, fields):
            tally.updated += 1
        else:
            tally.unchanged += 1
    await session.flush()
    for sid, slot in new_slots.items():
        link = links.get(sid)
        if link is None:
            session.add(RosterLink(school_id=run.school_id, kind="TIMETABLE_SLOT", external_id=sid, target_id=slot.id))
        else:
            link.target_id = slot.id


def _sourced_ids_quiet(run: _Run, entity: str) -> list[str]:
    return [row.get("sourcedId") for row in run.rows.get(entity, []) if row.get("sourcedId")]


class RosterRejected(Exception):
    """Raised by the caller to roll the transaction back after a dry run or on problems."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("roster import not applied")
        self.result = result


__all__ = [
    "ENTITIES",
    "ImportFile",
    "ImportResult",
    "Problem",
    "RosterRejected",
    "Tally",
    "import_roster",
]
