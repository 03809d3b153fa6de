"""Analytics: attendance and grade statistics (services/statistics.py), as plain figures
with the keys as global IDs and a label beside each."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry
from strawberry import relay

from ediary_gql.services import statistics as service

AttendanceGroupBy = strawberry.enum(
    service.GroupBy, name="AttendanceGroupBy", description="How attendance statistics are grouped"
)

RATE = "Share of marked lesson-places attended: (present + late) / marked, from 0 to 1; null when nothing is marked"


@strawberry.type(description="Attendance marks counted by status over non-cancelled lessons")
class AttendanceStatusCounts:
    present: int = strawberry.field(description="How many were present")
    absent: int = strawberry.field(description="How many were absent without a reason given")
    late: int = strawberry.field(description="How many came late")
    excused: int = strawberry.field(description="How many were absent for a valid reason")
    sick: int = strawberry.field(description="How many were ill")
    marked: int = strawberry.field(description="Marks of any status (child × lesson places marked)")
    lessons: int = strawberry.field(
        description="Lessons held (not cancelled), marked or not; grouped by child, the lessons the child was marked at"
    )
    attendance_rate: float | None = strawberry.field(description=RATE)

    @classmethod
    def build(cls, counts: service.Counts) -> Self:
        return cls(
            present=counts.present,
            absent=counts.absent,
            late=counts.late,
            excused=counts.excused,
            sick=counts.sick,
            marked=counts.marked,
            lessons=counts.lessons,
            attendance_rate=counts.attendance_rate,
        )


@strawberry.type(description="One group of attendanceStatistics: its key (the one groupBy names) and its counts")
class AttendanceGroup:
    class_id: relay.GlobalID | None = strawberry.field(description="By CLASS: the class")
    date: dt.date | None = strawberry.field(description="By DAY: the day")
    child_id: relay.GlobalID | None = strawberry.field(description="By CHILD: the child")
    subject_id: relay.GlobalID | None = strawberry.field(description="By SUBJECT: the subject")
    label: str = strawberry.field(
        description="The class's name, the ISO date, the child's full name or the subject's name"
    )
    counts: AttendanceStatusCounts = strawberry.field(description="The group's marks by status")
    attendance_rate: float | None = strawberry.field(description=RATE)

    @classmethod
    def build(cls, group_by: service.GroupBy, group: service.AttendanceGroup) -> Self:
        def gid(type_name: str, of: service.GroupBy) -> relay.GlobalID | None:
            return relay.GlobalID(type_name, str(group.key)) if group_by is of else None

        return cls(
            class_id=gid("SchoolClass", service.GroupBy.CLASS),
            date=group.key if isinstance(group.key, dt.date) else None,
            child_id=gid("Child", service.GroupBy.CHILD),
            subject_id=gid("Subject", service.GroupBy.SUBJECT),
            label=group.label,
            counts=AttendanceStatusCounts.build(group.counts),
            attendance_rate=group.counts.attendance_rate,
        )


@strawberry.type(description="A child who missed more than the threshold's share of their marked lessons")
class ChildAbsence:
    child_id: relay.GlobalID = strawberry.field(description="The child")
    full_name: str = strawberry.field(description="Last, first and middle name")
    missed: int = strawberry.field(description="Marks ABSENT, SICK or EXCUSED")
    marked: int = strawberry.field(description="Marks of any status")
    share: float = strawberry.field(description="missed / marked, from 0 to 1")

    @classmethod
    def build(cls, found: service.ChildAbsence) -> Self:
        return cls(
            child_id=relay.GlobalID("Child", str(found.child_id)),
            full_name=found.full_name,
            missed=found.missed,
            marked=found.marked,
            share=found.share,
        )


@strawberry.type(description="Attendance of a school or a class over dates")
class AttendanceStatistics:
    group_by: AttendanceGroupBy = strawberry.field(description="How the rows are grouped")  # type: ignore[valid-type]
    total: AttendanceStatusCounts = strawberry.field(description="Every group together")
    attendance_rate: float | None = strawberry.field(description=RATE)
    groups: list[AttendanceGroup] = strawberry.field(
        description="By class or subject: by name; by child: by full name; by day: in date order"
    )
    missing_over: list[ChildAbsence] = strawberry.field(
        description="Children whose share of missed marked lessons (absent + sick + excused over marked) "
        "exceeds the threshold, the largest share first"
    )

    @classmethod
    def build(cls, stats: service.AttendanceStatistics) -> Self:
        return cls(
            group_by=stats.group_by,
            total=AttendanceStatusCounts.build(stats.total),
            attendance_rate=stats.total.attendance_rate,
            groups=[AttendanceGroup.build(stats.group_by, g) for g in stats.groups],
            missing_over=[ChildAbsence.build(c) for c in stats.missing_over],
        )


@strawberry.type(description="How many grades of one value")
class GradeCount:
    value: str = strawberry.field(description='"1"…"5", "PASS" or "FAIL"')
    count: int = strawberry.field(description="How many grades have this value")


@strawberry.type(description="A subject's grades in a class over a period")
class SubjectGradeStatistics:
    subject_id: relay.GlobalID = strawberry.field(description="The subject")
    subject_name: str = strawberry.field(description="Name of the subject")
    distribution: list[GradeCount] = strawberry.field(
        description="Regular live grades by value, every value the diary uses (zeros included)"
    )
    average: float | None = strawberry.field(
        description="Arithmetic mean of the numeric grades, 2 decimals, as Child.averages computes it; "
        "null without numeric grades"
    )
    weighted_average: float | None = strawberry.field(
        description="Mean weighted by the control types' weights, 2 decimals, as Child.averages computes it"
    )
    count: int = strawberry.field(description="Numeric grades the averages count")

    @classmethod
    def build(cls, found: service.SubjectGrades) -> Self:
        avg = found.average
        return cls(
            subject_id=relay.GlobalID("Subject", str(found.subject_id)),
            subject_name=found.subject_name,
            distribution=[GradeCount(value=v, count=n) for v, n in found.distribution],
            average=None if avg is None else float(avg.average),
            weighted_average=None if avg is None else float(avg.weighted_average),
            count=0 if avg is None else avg.count,
        )


@strawberry.type(description="Grades of a class over a period, per subject with grades")
class GradeStatistics:
    class_id: relay.GlobalID = strawberry.field(description="The class")
    period_id: relay.GlobalID = strawberry.field(description="The period")
    subjects: list[SubjectGradeStatistics] = strawberry.field(description="By subject name")

    @classmethod
    def build(cls, stats: service.GradeStatistics) -> Self:
        return cls(
            class_id=relay.GlobalID("SchoolClass", str(stats.class_id)),
            period_id=relay.GlobalID("Period", str(stats.period_id)),
            subjects=[SubjectGradeStatistics.build(s) for s in stats.subjects],
        )
