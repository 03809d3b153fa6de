"""What an import takes and gives back, and the state of one import run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode


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


class Sourced(Protocol):
    """A row an import matches by sourcedId."""

    external_id: str | None


K = TypeVar("K")
E = TypeVar("E", bound=Sourced)


@dataclass(slots=True)
class Run:
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

    def claim(
        self,
        row: Row,
        column: str,
        *,
        sid: str,
        key: K,
        seen: dict[K, int],
        own: E | None,
        by_key: Mapping[K, E],
        again: str,
        taken: str,
    ) -> tuple[bool, E | None]:
        """The rule of a natural key (a subject's name; a class's year, level and letter):
        once in the file (`again`, then the earlier line, if not), and an entity already
        holding it is this row's unless another sourcedId has it (`taken`); one made by
        hand, with no sourcedId, is adopted. (False, None) when refused, else (True, the
        entity to update, or None to create one)."""
        if key in seen:
            self.bad(row, column, ErrorCode.DUPLICATE, f"{again} {seen[key]}")
            return False, None
        seen[key] = row.line
        holder = by_key.get(key)
        if holder is not None and holder is not own and holder.external_id not in (None, sid):
            self.bad(row, column, ErrorCode.DUPLICATE, taken)
            return False, None
        return True, own if own is not None else holder


class RosterRejected(Exception):
    """Raised by the caller to roll the transaction back after a dry run or on problems."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("roster import not applied")
        self.result = result
