"""Child (a pupil) and Enrollment (a child in a class from one date to another).

SNILS and the birth certificate are guarded per field by the policy
(`can_view_child_documents`): others get null.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.children import Enrollment as EnrollmentRow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.resolvers import school_setup_fields as fields
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.school_class import SchoolClass

if TYPE_CHECKING:
    from ediary_gql.context import Context
    from ediary_gql.schema.types.diary import SubjectAverage


Sex = strawberry.enum(enums.Sex, description="A child's sex")


@strawberry.type(description="A birth certificate (свидетельство о рождении)")
class BirthCertificate:
    series: str
    number: str
    issued_on: dt.date | None


@strawberry.type(name="Child", description="A child (pupil) of a school")
class Child(EntityNode):
    model = ChildRow

    id: relay.NodeID[int]
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: Sex  # type: ignore[valid-type]
    citizenship: str = strawberry.field(description="OKSM code of the citizenship, 643 for Russia")
    _snils: strawberry.Private[str | None]
    _cert: strawberry.Private[tuple[str, str, dt.date | None] | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        cert = None
        if row.birth_cert_series is not None and row.birth_cert_number is not None:
            cert = (row.birth_cert_series, row.birth_cert_number, row.birth_cert_issued_on)
        return cls(
            id=row.id,
            last_name=row.last_name,
            first_name=row.first_name,
            middle_name=row.middle_name,
            birth_date=row.birth_date,
            sex=enums.Sex(row.sex),
            citizenship=row.citizenship,
            _snils=row.snils,
            _cert=cert,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_child(context, row.id)

    @strawberry.field(description="Last, first and middle name")
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @strawberry.field(
        description="SNILS, 11 digits; only for the child, their guardians and their school's admins (null for others)"
    )
    async def snils(self, info: strawberry.Info[Context, None]) -> str | None:
        if self._snils is None or not await fields.may_view_child_documents(info.context, self.id):
            return None
        return self._snils

    @strawberry.field(
        description="Birth certificate; only for the child, their guardians and their school's admins (null for others)"
    )
    async def birth_certificate(self, info: strawberry.Info[Context, None]) -> BirthCertificate | None:
        if self._cert is None or not await fields.may_view_child_documents(info.context, self.id):
            return None
        series, number, issued_on = self._cert
        return BirthCertificate(series=series, number=number, issued_on=issued_on)

    @strawberry.field(description="The class the child is in now (the enrolment in force)")
    async def current_class(self, info: strawberry.Info[Context, None]) -> SchoolClass | None:
        enrollment = await fields.current_enrollment(info.context, self.id)
        if enrollment is None:
            return None
        row = await info.context.loaders.by_id(SchoolClassRow).load(enrollment.class_id)
        return SchoolClass.from_row(row) if row is not None else None

    @strawberry.field(description="Every class enrolment of the child, oldest first")
    async def enrollments(self, info: strawberry.Info[Context, None]) -> list[Enrollment]:
        return [Enrollment.from_row(r) for r in await fields.child_enrollments(info.context, self.id)]

    @strawberry.field(description="Averages per subject over a period; for those who may read the child's diary")
    async def averages(
        self, info: strawberry.Info[Context, None], period_id: relay.GlobalID
    ) -> list[Annotated[SubjectAverage, strawberry.lazy("ediary_gql.schema.types.diary")]]:
        from ediary_gql.resolvers import diary  # the diary reads build on this type

        return await diary.child_averages(info, self.id, period_id)


@strawberry.type(name="Enrollment", description="A child in a class from startsOn until endsOn (open while null)")
class Enrollment(EntityNode):
    model = EnrollmentRow

    id: relay.NodeID[int]
    starts_on: dt.date
    ends_on: dt.date | None
    _child_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id, starts_on=row.starts_on, ends_on=row.ends_on, _child_id=row.child_id, _class_id=row.class_id
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_child(context, row.child_id)

    @strawberry.field(description="The child")
    async def child(self, info: strawberry.Info[Context, None]) -> Child:
        row = await info.context.loaders.by_id(ChildRow).load(self._child_id)
        assert row is not None  # noqa: S101 - a foreign key
        return Child.from_row(row)

    @strawberry.field(description="The class")
    async def school_class(self, info: strawberry.Info[Context, None]) -> SchoolClass:
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._class_id)
        assert row is not None  # noqa: S101 - a foreign key
        return SchoolClass.from_row(row)
