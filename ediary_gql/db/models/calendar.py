"""Academic years, their periods, school holidays and production-calendar overrides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, BigId, CreatedAtMixin, IntPk, str_enum
from ediary_gql.db.models.enums import PeriodKind


class AcademicYear(CreatedAtMixin, Base):
    __tablename__ = "academic_years"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(20))  # "2026/2027"
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    period_kind: Mapped[PeriodKind] = mapped_column(str_enum(PeriodKind))

    __table_args__ = (
        UniqueConstraint("school_id", "name"),
        Index("ix_academic_years_school_dates", "school_id", "starts_on"),
        CheckConstraint("starts_on < ends_on", name="dates"),
    )


class Period(Base):
    """A quarter, trimester or semester of an academic year."""

    __tablename__ = "periods"

    id: Mapped[IntPk]
    academic_year_id: Mapped[int] = mapped_column(BigId, ForeignKey("academic_years.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(50))  # "1 четверть"
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("academic_year_id", "number"),
        CheckConstraint("number BETWEEN 1 AND 4", name="number"),
        CheckConstraint("starts_on < ends_on", name="dates"),
    )


class Holiday(CreatedAtMixin, Base):
    """School holidays (каникулы) or a single day off: no lessons are generated."""

    __tablename__ = "holidays"

    id: Mapped[IntPk]
    school_id: Mapped[int] = mapped_column(BigId, ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)  # == starts_on for one day

    __table_args__ = (
        Index("ix_holidays_school_dates", "school_id", "starts_on", "ends_on"),
        CheckConstraint("starts_on <= ends_on", name="dates"),
    )


class CalendarOverride(Base):
    """A correction to the `holidays.Russia` production calendar, kept as data (global)."""

    __tablename__ = "calendar_overrides"

    id: Mapped[IntPk]
    year: Mapped[int] = mapped_column(Integer, index=True)
    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),)
