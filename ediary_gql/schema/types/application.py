"""Application (заявка): a parent's request for access to a child's diary; inputs and payloads."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.auth import personal_fields, policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.applications import Application as ApplicationRow
from ediary_gql.db.models.attachments import Attachment as AttachmentRow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import application_fields as fields
from ediary_gql.resolvers import applications, personal_data
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.school_class import SchoolClass, Sex
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context

ApplicationStatus = strawberry.enum(
    enums.ApplicationStatus,
    description="DRAFT → SUBMITTED → ACCEPTED → IN_REVIEW → APPROVED; REJECTED; NEEDS_CORRECTION → SUBMITTED",
)
ApplicationAction = strawberry.enum(enums.ApplicationAction, description="A step of an application's history")
ApplicationAttachmentKind = strawberry.enum(
    enums.ApplicationAttachmentKind, description="What a file of an application is"
)


@strawberry.enum(description="What the school's admin does with an application")
class ReviewAction(enum.Enum):
    ACCEPT = "ACCEPT"
    START_REVIEW = "START_REVIEW"
    REQUEST_CORRECTION = "REQUEST_CORRECTION"
    EXTEND = "EXTEND"
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@strawberry.type(description="The birth certificate as given: series (e.g. IV-АБ), 6-digit number, issue date")
class ApplicationBirthCertificate:
    series: str | None = strawberry.field(description="Series of the certificate")
    number: str | None = strawberry.field(description="Number of the certificate")
    issued_on: dt.date | None = strawberry.field(description="Date of issue")


@strawberry.type(name="ApplicationChild", description="The child as the applicant described them")
class ApplicationChild:
    last_name: str | None = strawberry.field(description="Family name")
    first_name: str | None = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(description="Patronymic, if any")
    birth_date: dt.date | None = strawberry.field(description="Date of birth")
    sex: Sex | None = strawberry.field(description="The child's sex")  # type: ignore[valid-type]
    snils: str | None = strawberry.field(description="11 digits")
    birth_certificate: ApplicationBirthCertificate = strawberry.field(description="The child's birth certificate")
    citizenship: str | None = strawberry.field(description="OKSM country code; 643 is Russia")


@strawberry.type(description="One step of an application: who did what, when, with what comment")
class ApplicationHistoryEntry:
    from_status: ApplicationStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="The status before the step; null for the first"
    )
    to_status: ApplicationStatus = strawberry.field(description="The status after the step")  # type: ignore[valid-type]
    action: ApplicationAction = strawberry.field(description="The step taken")  # type: ignore[valid-type]
    comment: str | None = strawberry.field(description="A comment, if given")
    at: dt.datetime = strawberry.field(description="When the step was taken")
    _actor_id: strawberry.Private[int | None]

    @strawberry.field(
        description="Who took the step (whoever may read the application sees who acted on it; "
        "contacts stay guarded by the User type); null for the system"
    )
    async def actor(self, info: strawberry.Info[Context, None]) -> User | None:
        if self._actor_id is None:
            return None
        row = await info.context.loaders.by_id(UserRow).load(self._actor_id)
        return User.from_row(row) if row is not None else None


@strawberry.type(description="A file of an application")
class ApplicationAttachment:
    kind: ApplicationAttachmentKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of application attachment it is"
    )
    _attachment_id: strawberry.Private[int]

    @strawberry.field(description="The file; null for those who may not read it")
    async def file(self, info: strawberry.Info[Context, None]) -> Attachment | None:
        row = await info.context.loaders.by_id(AttachmentRow).load(self._attachment_id)
        if row is None or not await Attachment.visible(info.context, row):
            return None
        return Attachment.from_row(row)


@strawberry.type(name="Application", description="A parent's application (заявка) for access to a child's diary")
class Application(EntityNode):
    model = ApplicationRow

    id: relay.NodeID[int]
    number: str | None = strawberry.field(description='"ED-2026-000123", given on first submission')
    status: ApplicationStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the application is in its life cycle"
    )
    region_code: str | None = strawberry.field(
        description="Code of the subject of the Russian Federation (77 for Moscow)"
    )
    submitted_at: dt.datetime | None = strawberry.field(description="When it was first submitted; null for a draft")
    due_on: dt.date | None = strawberry.field(description="Review deadline: 5 working days, 10 when extended")
    extended: bool = strawberry.field(description="Whether the due date was extended for more checks")
    decided_at: dt.datetime | None = strawberry.field(description="When the application was decided; null until then")
    rejection_reason: str | None = strawberry.field(description="Why it was rejected; null unless REJECTED")
    created_at: dt.datetime = strawberry.field(description="When the application was created")
    updated_at: dt.datetime = strawberry.field(description="When the application was last changed")
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            status=enums.ApplicationStatus(row.status),
            region_code=row.region_code,
            submitted_at=row.submitted_at,
            due_on=row.due_on,
            extended=bool(row.extended),
            decided_at=row.decided_at,
            rejection_reason=row.rejection_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return applications.may_view(context.actor, row)

    @strawberry.field(
        description="The child as described; SNILS and the birth certificate only for the applicant and the "
        "school's admins (null for operators)"
    )
    async def child(self, info: strawberry.Info[Context, None]) -> ApplicationChild:
        row = self._row
        documents = policy.can_view_application_documents(
            info.context.actor, applicant_id=row.applicant_id, school_id=row.school_id
        )
        if documents and row.child_id is not None:  # audited reads, where the child has a record
            for value, field in (
                (row.child_snils, personal_fields.APPLICATION_SNILS),
                (row.birth_cert_number, personal_fields.APPLICATION_BIRTH_CERTIFICATE),
            ):
                if value is not None:
                    await personal_data.shown_document(
                        info.context, row.child_id, field.key, operation=personal_data.operation_name(info)
                    )
        return ApplicationChild(
            last_name=row.child_last_name,
            first_name=row.child_first_name,
            middle_name=row.child_middle_name,
            birth_date=row.child_birth_date,
            sex=enums.Sex(row.child_sex) if row.child_sex else None,
            snils=row.child_snils if documents else None,
            birth_certificate=ApplicationBirthCertificate(
                series=row.birth_cert_series, number=row.birth_cert_number, issued_on=row.birth_cert_issued_on
            )
            if documents
            else ApplicationBirthCertificate(series=None, number=None, issued_on=None),
            citizenship=row.citizenship,
        )

    @strawberry.field(description="Who applied")
    async def applicant(self, info: strawberry.Info[Context, None]) -> User | None:
        row = await info.context.loaders.by_id(UserRow).load(self._row.applicant_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="The school applied to")
    async def school(self, info: strawberry.Info[Context, None]) -> School | None:
        if self._row.school_id is None:
            return None
        row = await info.context.loaders.by_id(SchoolRow).load(self._row.school_id)
        return School.from_row(row) if row is not None else None

    @strawberry.field(description="The settlement's global ID (the family's choice of place)")
    def settlement_id(self) -> relay.GlobalID | None:
        sid = self._row.settlement_id
        return relay.GlobalID("Settlement", str(sid)) if sid is not None else None

    @strawberry.field(description='The class applied to, e.g. "5А"')
    async def class_name(self, info: strawberry.Info[Context, None]) -> str | None:
        if self._row.class_id is None:
            return None
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._row.class_id)
        return row.name if row is not None else None

    @strawberry.field(description="The class applied to; null for those who may not see the school's classes")
    async def school_class(self, info: strawberry.Info[Context, None]) -> SchoolClass | None:
        if self._row.class_id is None:
            return None
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._row.class_id)
        if row is None or not await SchoolClass.visible(info.context, row):
            return None
        return SchoolClass.from_row(row)

    @strawberry.field(description="Past its due date while waiting for the school (in the school's time zone)")
    async def overdue(self, info: strawberry.Info[Context, None]) -> bool:
        return await fields.is_overdue(info.context, self._row)

    @strawberry.field(description="Every step, oldest first")
    async def history(self, info: strawberry.Info[Context, None]) -> list[ApplicationHistoryEntry]:
        rows = await fields.history(info.context, self._row.id)
        return [
            ApplicationHistoryEntry(
                from_status=enums.ApplicationStatus(r.from_status) if r.from_status else None,
                to_status=enums.ApplicationStatus(r.to_status),
                action=enums.ApplicationAction(r.action),
                comment=r.comment,
                at=r.created_at,
                _actor_id=r.actor_id,
            )
            for r in rows
        ]

    @strawberry.field(description="The scans: birth certificate, school certificate, others")
    async def attachments(self, info: strawberry.Info[Context, None]) -> list[ApplicationAttachment]:
        rows = await fields.attachments(info.context, self._row.id)
        return [
            ApplicationAttachment(kind=enums.ApplicationAttachmentKind(r.kind), _attachment_id=r.attachment_id)
            for r in rows
        ]

    @strawberry.field(description="What the viewer may do with it now (UPDATE and SUBMIT, or review actions)")
    def available_actions(self, info: strawberry.Info[Context, None]) -> list[ApplicationAction]:  # type: ignore[valid-type]
        return fields.available_actions(info.context, self._row)


@strawberry.type(description="An application changed status (or its due date)")
class ApplicationEvent:
    status: ApplicationStatus = strawberry.field(description="The status it has now")  # type: ignore[valid-type]
    application: Application = strawberry.field(description="The application as it now is")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, row: Any, cursor: str) -> Self:
        return cls(status=enums.ApplicationStatus(row.status), application=Application.from_row(row), cursor=cursor)


# --- inputs ------------------------------------------------------------------------------


@strawberry.input(description="A birth certificate: series (IV-АБ), number (6 digits) and issue date")
class ApplicationBirthCertificateInput:
    series: str | None = strawberry.field(default=None, description="Series of the certificate")
    number: str | None = strawberry.field(default=None, description="Number of the certificate")
    issued_on: dt.date | None = strawberry.field(default=None, description="Date of issue")


@strawberry.input(description="The child: names in Cyrillic (hyphens allowed), SNILS optional")
class ApplicationChildInput:
    last_name: str | None = strawberry.field(default=None, description="Family name")
    first_name: str | None = strawberry.field(default=None, description="Given name")
    middle_name: str | None = strawberry.field(default=None, description="Patronymic, if any")
    birth_date: dt.date | None = strawberry.field(default=None, description="Date of birth")
    sex: Sex | None = strawberry.field(default=None, description="The child's sex")  # type: ignore[valid-type]
    snils: str | None = strawberry.field(default=None, description="11 digits; 123-456-789 01 is accepted")
    birth_certificate: ApplicationBirthCertificateInput | None = strawberry.field(
        default=None, description="The child's birth certificate"
    )
    citizenship: str | None = strawberry.field(default=None, description="OKSM code; 643 (Russia) by default")


@strawberry.input(description="A file to attach (multipart upload): PDF, JPG or PNG up to 5 MB")
class ApplicationFileInput:
    kind: ApplicationAttachmentKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of application file it is"
    )
    file: Upload = strawberry.field(description="The file uploaded (multipart)")


@strawberry.input(description="A new draft: fill in what you have; everything is checked on submission")
class CreateApplicationInput:
    child: ApplicationChildInput | None = strawberry.field(
        default=None, description="The child's data as the parent gives them"
    )
    region_code: str | None = strawberry.field(
        default=None, description="Code of the subject of the Russian Federation (77 for Moscow)"
    )
    settlement_id: relay.GlobalID | None = node_id("Settlement", default=None)
    school_id: relay.GlobalID | None = node_id("School", default=None)
    class_id: relay.GlobalID | None = node_id("SchoolClass", default=None)
    attachments: list[ApplicationFileInput] | None = strawberry.field(
        default=None, description="Files supporting the application"
    )


@strawberry.input(description="The whole form again (fields left out are cleared); files are added and removed")
class UpdateApplicationInput:
    application_id: relay.GlobalID = node_id("Application")
    child: ApplicationChildInput | None = strawberry.field(
        default=None, description="The child's data, replacing what was given"
    )
    region_code: str | None = strawberry.field(
        default=None, description="Code of the subject of the Russian Federation (77 for Moscow)"
    )
    settlement_id: relay.GlobalID | None = node_id("Settlement", default=None)
    school_id: relay.GlobalID | None = node_id("School", default=None)
    class_id: relay.GlobalID | None = node_id("SchoolClass", default=None)
    attachments: list[ApplicationFileInput] | None = strawberry.field(default=None, description="Files to add")
    remove_attachments: list[relay.GlobalID] | None = node_id(
        "Attachment", default=None, description="Attachment IDs to take out of the application"
    )


@strawberry.input(description="The draft application to submit for review")
class SubmitApplicationInput:
    application_id: relay.GlobalID = node_id("Application")


@strawberry.input(description="One review action; a comment is required to reject or to ask for corrections")
class ReviewApplicationInput:
    application_id: relay.GlobalID = node_id("Application")
    action: ReviewAction = strawberry.field(description="The step to take")
    comment: str | None = strawberry.field(default=None, description="A comment, if given")


@strawberry.input(description="The review queue's filter")
class ApplicationFilter:
    status: ApplicationStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those in this status"
    )
    overdue: bool | None = strawberry.field(default=None, description="Only those past their due date")
    query: str | None = strawberry.field(default=None, description="An application number, or the child's surname")
    school_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those of this school")


@strawberry.type(description="The application after the change, or why it was refused")
class ApplicationPayload(Payload):
    application: Application | None = strawberry.field(
        default=None, description="The application as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
