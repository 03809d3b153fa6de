"""The 2026/2027 school year: quarters, school holidays and the school days.

Days off come from the Russian production calendar (`holidays.Russia`, with
the government's transfers), the school's own breaks, and any global
`calendar_overrides` rows passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays

MOSCOW = ZoneInfo("Europe/Moscow")

YEAR_NAME = "2026/2027"
YEAR_START = dt.date(2026, 9, 1)
YEAR_END = dt.date(2027, 5, 31)

# "Today" of the demo and scale data: marks and attendance exist up to this day.
TODAY = dt.date(2026, 11, 27)

# The demo diary: lessons from here to here (the second quarter, around "today").
DEMO_FROM = dt.date(2026, 11, 2)
DEMO_TO = dt.date(2026, 12, 11)


@dataclass(frozen=True, slots=True)
class Span:
    number: int
    name: str
    starts_on: dt.date
    ends_on: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.starts_on <= day <= self.ends_on


QUARTERS: tuple[Span, ...] = (
    Span(1, "1 четверть", dt.date(2026, 9, 1), dt.date(2026, 10, 23)),
    Span(2, "2 четверть", dt.date(2026, 11, 2), dt.date(2026, 12, 27)),
    Span(3, "3 четверть", dt.date(2027, 1, 11), dt.date(2027, 3, 19)),
    Span(4, "4 четверть", dt.date(2027, 3, 29), dt.date(2027, 5, 31)),
)

BREAKS: tuple[Span, ...] = (
    Span(1, "Осенние каникулы", dt.date(2026, 10, 24), dt.date(2026, 11, 1)),
    Span(2, "Зимние каникулы", dt.date(2026, 12, 28), dt.date(2027, 1, 10)),
    Span(3, "Весенние каникулы", dt.date(2027, 3, 20), dt.date(2027, 3, 28)),
)


def quarter_of(day: dt.date) -> Span | None:
    return next((q for q in QUARTERS if day in q), None)


class SchoolCalendar:
    """Which days have lessons: weekdays (Mon–Fri) that are neither public holidays nor breaks."""

    def __init__(
        self,
        *,
        breaks: Sequence[Span] = BREAKS,
        overrides: Iterable[tuple[dt.date, bool]] = (),
    ) -> None:
        self.public = holidays.country_holidays("RU", years=range(YEAR_START.year, YEAR_END.year + 2))
        self.breaks = tuple(breaks)
        self.overrides = dict(overrides)  # date -> is_working

    def is_working_day(self, day: dt.date) -> bool:
        """The production calendar's answer (overrides first)."""
        if day in self.overrides:
            return self.overrides[day]
        return day.isoweekday() <= 5 and day not in self.public

    def is_school_day(self, day: dt.date) -> bool:
        # A transferred working Saturday is not a school day for a five-day week.
        if day.isoweekday() > 5 or not self.is_working_day(day):
            return False
        return not any(day in b for b in self.breaks)

    def school_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        out: list[dt.date] = []
        day = start
        while day <= end:
            if self.is_school_day(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        day = start
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


def at_moscow(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock moment at the school (Moscow), as an aware UTC datetime."""
    return dt.datetime.combine(day, time, tzinfo=MOSCOW).astimezone(dt.UTC)
