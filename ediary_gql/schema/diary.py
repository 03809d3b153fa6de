"""Root fields of the diary reads."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import diary as reads
from ediary_gql.schema.types.child import Child
from ediary_gql.schema.types.diary import ClassJournal, DiaryDay


@strawberry.type
class DiaryQuery:
    my_children: list[Child] = strawberry.field(
        resolver=reads.my_children, description="A guardian's children, or a student's own record"
    )
    child: Child | None = strawberry.field(
        resolver=reads.child, description="A child by ID; null if absent or not yours to see"
    )
    diary: list[DiaryDay] = strawberry.field(
        resolver=reads.diary,
        description="A child's diary from `from` to `to` (at most 31 days), day by day; optionally one subject",
    )
    class_journal: ClassJournal = strawberry.field(
        resolver=reads.class_journal,
        description="The journal of a class in a subject over a period: the assigned teacher and school admins",
    )
