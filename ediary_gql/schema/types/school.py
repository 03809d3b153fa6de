"""The School type (minimal: identity, names, INN and status; the schools area extends it)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.resolvers import integrations as integration_reads
from ediary_gql.resolvers import reports as report_reads
from ediary_gql.resolvers import school_fields, school_structure
from ediary_gql.resolvers import webhooks as webhook_reads
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import AcademicYear, Period
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.geo import Region, Settlement
from ediary_gql.schema.types.integration import Integration, IntegrationStatus
from ediary_gql.schema.types.report import ReportTemplate
from ediary_gql.schema.types.school_class import SchoolClass
from ediary_gql.schema.types.subject import ControlType, Subject
from ediary_gql.schema.types.user import User
from ediary_gql.schema.types.webhook import Webhook

if TYPE_CHECKING:
    from ediary_gql.context import Context

SchoolStatus = strawberry.enum(enums.SchoolStatus, description="A school's registration status")
SchoolType = strawberry.enum(enums.SchoolType, description="Kind of school: school, gymnasium, lyceum, …")
LaunchMode = strawberry.enum(enums.LaunchMode, description="TEST: a test launch, staff only; OPEN: offered to parents")


@strawberry.type(name="School", description="A school (educational organisation)")
class School(EntityNode):
    model = SchoolRow

    id: relay.NodeID[int]
    full_name: str = strawberry.field(description="Full official name")
    short_name: str = strawberry.field(description="Short name, as shown in lists")
    inn: str = strawberry.field(description="INN of the organisation (10 digits)")
    status: SchoolStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the school is in its life cycle"
    )
    _registered_by_id: strawberry.Private[int | None]
    # --- schools area: registration, verification, search ---
    type: SchoolType = strawberry.field(description="Kind of school")  # type: ignore[valid-type]
    okpo: str = strawberry.field(description="OKPO code (8 digits)")
    kpp: str | None = strawberry.field(description="KPP (9 digits), if given")
    address: str = strawberry.field(description="Postal address")
    phone: str | None = strawberry.field(description="Phone number")
    email: str | None = strawberry.field(description="Email address")
    website: str | None = strawberry.field(description="Website address, if any")
    launch_mode: LaunchMode = strawberry.field(  # type: ignore[valid-type]
        description="TEST until the school's admin opens it to parents"
    )
    diary_uid: str | None = strawberry.field(description="The diary's identifier, issued on activation")
    created_at: dt.datetime = strawberry.field(description="When the school was created")
    _settlement_id: strawberry.Private[int]
    _rejection_reason: strawberry.Private[str | None]
    _reviewed_at: strawberry.Private[dt.datetime | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            full_name=row.full_name,
            short_name=row.short_name,
            inn=row.inn,
            status=enums.SchoolStatus(row.status),
            _registered_by_id=row.registered_by_id,
            type=enums.SchoolType(row.type),
            okpo=row.okpo,
            kpp=row.kpp,
            address=row.address,
            phone=row.phone,
            email=row.email,
            website=row.website,
            launch_mode=enums.LaunchMode(row.launch_mode),
            diary_uid=row.diary_uid,
            created_at=row.created_at,
            _settlement_id=row.settlement_id,
            _rejection_reason=row.rejection_reason,
            _reviewed_at=row.reviewed_at,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return school_fields.may_view(context, row)

    # --- schools area: place, review details -----------------------------------

    @strawberry.field(description="The settlement the school is in")
    async def settlement(self, info: strawberry.Info[Context, None]) -> Settlement:
        return Settlement.from_row(await school_fields.settlement(info.context, self._settlement_id))

    @strawberry.field(description="The region the school is in")
    async def region(self, info: strawberry.Info[Context, None]) -> Region:
        return Region.from_row(await school_fields.region(info.context, self._settlement_id))

    @strawberry.field(description="Why the registration was rejected; only the registrant and operators see it")
    def rejection_reason(self, info: strawberry.Info[Context, None]) -> str | None:
        return self._rejection_reason if school_fields.may_view_review(info.context, self._registered_by_id) else None

    @strawberry.field(description="When the registration was decided; only the registrant and operators see it")
    def reviewed_at(self, info: strawberry.Info[Context, None]) -> dt.datetime | None:
        return self._reviewed_at if school_fields.may_view_review(info.context, self._registered_by_id) else None

    @strawberry.field(description="Who registered the school; only the registrant and operators see it")
    async def registered_by(self, info: strawberry.Info[Context, None]) -> User | None:
        row = await school_fields.registrant(info.context, self._registered_by_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(
        description="The registrant's appointment document (приказ о назначении); registrant and operators only"
    )
    async def appointment_document(self, info: strawberry.Info[Context, None]) -> Attachment | None:
        row = await school_fields.appointment_document(info.context, self.id, self._registered_by_id)
        return Attachment.from_row(row) if row is not None else None

    # --- school setup (schools area: setup and imports) ---------------------

    @strawberry.field(description="Academic years, newest first; null unless you are of the school (staff, families)")
    async def academic_years(self, info: strawberry.Info[Context, None]) -> list[AcademicYear] | None:
        if not await school_structure.may_view_school_structure(info.context, self.id):
            return None
        return [AcademicYear.from_row(r) for r in await school_structure.academic_years(info.context, self.id)]

    @strawberry.field(
        description="The period holding the school's today (its own time zone); between periods, the latest "
        "that has ended; null before the first one begins, or unless you are of the school (staff, families)"
    )
    async def current_period(self, info: strawberry.Info[Context, None]) -> Period | None:
        if not await school_structure.may_view_school_structure(info.context, self.id):
            return None
        row = await school_structure.current_period(info.context, self.id)
        return Period.from_row(row) if row is not None else None

    @strawberry.field(description="Subjects by name; null unless you are of the school (staff, families)")
    async def subjects(self, info: strawberry.Info[Context, None]) -> list[Subject] | None:
        if not await school_structure.may_view_school_structure(info.context, self.id):
            return None
        return [Subject.from_row(r) for r in await school_structure.subjects(info.context, self.id)]

    @strawberry.field(description="Control types with weights: the school's own and the defaults it keeps")
    async def control_types(self, info: strawberry.Info[Context, None]) -> list[ControlType] | None:
        if not await school_structure.may_view_school_structure(info.context, self.id):
            return None
        return [ControlType.from_row(r) for r in await school_structure.control_types(info.context, self.id)]

    @strawberry.field(description="Classes, newest year first; null unless you are of the school (staff, families)")
    async def classes(self, info: strawberry.Info[Context, None]) -> list[SchoolClass] | None:
        if not await school_structure.may_view_school_structure(info.context, self.id):
            return None
        return [SchoolClass.from_row(r) for r in await school_structure.classes(info.context, self.id)]

    # --- integrations: the school's service accounts ---------------------------

    @strawberry.field(
        description="The school's integrations (service accounts), newest first; null unless you are the school's admin"
    )
    async def integrations(
        self,
        info: strawberry.Info[Context, None],
        status: Annotated[
            IntegrationStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only the integrations in this status"),
        ] = None,
    ) -> list[Integration] | None:
        rows = await integration_reads.school_integrations(
            info.context, self.id, None if status is None else enums.IntegrationStatus(status)
        )
        return None if rows is None else [Integration.from_row(r) for r in rows]

    # --- integrations: the school's webhooks --------------------------------------

    @strawberry.field(
        description="The school's webhooks, newest first, each with its delivery log; null unless you are the "
        "school's admin or its integration with events:read (which sees the webhooks it registered)"
    )
    async def webhooks(self, info: strawberry.Info[Context, None]) -> list[Webhook] | None:
        rows = await webhook_reads.school_webhooks(info.context, self.id)
        return None if rows is None else [Webhook.from_row(r) for r in rows]

    # --- reports: the school's templates ----------------------------------------

    @strawberry.field(
        description="The school's report templates, per kind the default first; a school starts with the built-in "
        "default of each kind. Null unless you are of the school (staff, families)"
    )
    async def report_templates(self, info: strawberry.Info[Context, None]) -> list[ReportTemplate] | None:
        rows = await report_reads.school_report_templates(info.context, self.id)
        return None if rows is None else [ReportTemplate.from_row(r) for r in rows]
