"""Root fields of the diary reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.resolvers import diary as reads
from ediary_gql.resolvers.diary import TwoWays
from ediary_gql.schema.execution import Prebuilt
from ediary_gql.schema.ids import optional_pk, pk, pk_or_none
from ediary_gql.schema.sql import child as sql_child
from ediary_gql.schema.sql import diary as sql
from ediary_gql.schema.types.diary import ClassJournal, DiaryDay
from ediary_gql.schema.types.school_class import Child

Info = strawberry.Info[Context, None]
T = TypeVar("T")
R = TypeVar("R")


async def _either_way(read: TwoWays[T], build: Callable[[T], R], of: SqlObject) -> Any:
    """On PostgreSQL, `Prebuilt`: the database builds the response's JSON from the
    service's rows and the fields' SQL (`of`, schema/sql/diary.py); on SQLite, or with
    compiled reads off, the rows, built."""

    async def objects() -> R:
        return build(await read.rows())

    if read.root is None:
        return await objects()
    return Prebuilt(_nested(read.root, of), read.document, objects)


# one SqlNested per root and fields: the rendering's cache knows a root by identity
_ROOTS: dict[tuple[str, int], SqlNested] = {}


def _nested(root: str, of: SqlObject) -> SqlNested:
    found = _ROOTS.get((root, id(of)))
    if found is None:
        found = _ROOTS[(root, id(of))] = SqlNested(root, of)
    return found


_CHILD = sql_child.child("c")


def _children(rows: list[Any]) -> list[Child]:
    return [Child.from_row(row) for row in rows]


def _child(row: Any) -> Child | None:
    return None if row is None else Child.from_row(row)


def _days(days: list[Any]) -> list[DiaryDay]:
    return [DiaryDay.build(day) for day in days]


@strawberry.type
class DiaryQuery:
    @strawberry.field(description="A guardian's children, or a student's own record")
    async def my_children(self, info: Info) -> list[Child]:
        read = reads.my_children_read(info.context)
        return cast("list[Child]", await _either_way(read, _children, _CHILD))

    @strawberry.field(description="A child by ID; null if absent or not yours to see")
    async def child(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The child's global ID")]
    ) -> Child | None:
        child_id = pk_or_none(id, "Child")
        if child_id is None:
            return None
        read = reads.child_read(info.context, child_id=child_id)
        return cast("Child | None", await _either_way(read, _child, _CHILD))

    @strawberry.field(
        description="A child's diary from `from` to `to` (at most 31 days), day by day; optionally one subject"
    )
    async def diary(
        self,
        info: Info,
        child_id: Annotated[relay.GlobalID, strawberry.argument(description="The child whose diary to read")],
        start: Annotated[dt.date, strawberry.argument(name="from", description="First day, inclusive")],
        end: Annotated[dt.date, strawberry.argument(name="to", description="Last day, inclusive")],
        subject_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only the lessons of this subject")
        ] = None,
    ) -> list[DiaryDay]:
        read = reads.diary(
            info.context,
            child_id=pk(child_id, "Child", field="childId"),
            start=start,
            end=end,
            subject_id=optional_pk(subject_id, "Subject", field="subjectId"),
        )
        return cast("list[DiaryDay]", await _either_way(read, _days, sql.DIARY_DAY))

    @strawberry.field(
        description="The journal of a class in a subject over a period: the assigned teacher and school admins"
    )
    async def class_journal(
        self,
        info: Info,
        class_id: Annotated[relay.GlobalID, strawberry.argument(description="The class")],
        subject_id: Annotated[relay.GlobalID, strawberry.argument(description="The subject")],
        period_id: Annotated[relay.GlobalID, strawberry.argument(description="The period")],
    ) -> ClassJournal:
        read = reads.class_journal(
            info.context,
            class_id=pk(class_id, "SchoolClass", field="classId"),
            subject_id=pk(subject_id, "Subject", field="subjectId"),
            period_id=pk(period_id, "Period", field="periodId"),
        )
        return cast("ClassJournal", await _either_way(read, ClassJournal.build, sql.CLASS_JOURNAL))
