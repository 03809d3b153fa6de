"""What a report holds, independent of the format it is rendered in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

# A date cell is a `date`; a `datetime` is not a cell (a report shows days, not instants).
Cell: TypeAlias = str | int | Decimal | date | None


class ColumnKind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    # a share as a Decimal of 100 (95.0 means 95 %), as the diary computes it
    PERCENT = "percent"

    @property
    def numeric(self) -> bool:
        return self in (ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.PERCENT)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: ColumnKind = ColumnKind.TEXT


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str | None = None

    def __post_init__(self) -> None:
        width = len(self.columns)
        for number, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"section {self.title!r}: row {number} has {len(row)} cells, not {width}")


@dataclass(frozen=True, slots=True)
class ReportDocument:
    title: str
    school_name: str
    period_label: str
    made_at: datetime
    sections: tuple[Section, ...]

    def __post_init__(self) -> None:
        if self.made_at.tzinfo is None or self.made_at.utcoffset() is None:
            raise ValueError("made_at must be an aware datetime")
