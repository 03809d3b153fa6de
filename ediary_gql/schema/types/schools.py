"""Inputs and payloads of the schools area: registration, review, opening, search."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.types.school import School, SchoolStatus, SchoolType
from ediary_gql.services.schools import Decision

SchoolReviewDecision = strawberry.enum(
    Decision, name="SchoolReviewDecision", description="APPROVE: connect the school; REJECT: refuse, with a reason"
)


@strawberry.input(description="Register a school; the appointment document goes as a multipart upload")
class RegisterSchoolInput:
    full_name: str = strawberry.field(description="Полное наименование, as in the charter")
    short_name: str = strawberry.field(description="Сокращённое наименование")
    type: SchoolType = strawberry.field(description="Kind of school")  # type: ignore[valid-type]
    inn: str = strawberry.field(description="INN of the organisation: 10 digits with a check digit")
    okpo: str = strawberry.field(description="OKPO: 8 digits with a check digit")
    address: str = strawberry.field(description="Postal address")
    settlement_id: relay.GlobalID = node_id("Settlement", description="A Settlement of the directory")
    appointment_document: Upload = strawberry.field(
        description="The registrant's appointment order (приказ о назначении): PDF, JPG or PNG, at most 5 MB"
    )
    kpp: str | None = strawberry.field(default=None, description="KPP: 9 digits")
    phone: str | None = strawberry.field(default=None, description="Phone or email: at least one of them")
    email: str | None = strawberry.field(default=None, description="Email address")
    website: str | None = strawberry.field(default=None, description="Website address, if any")


@strawberry.input(description="An operator's decision on a pending registration")
class ReviewSchoolInput:
    school_id: relay.GlobalID = node_id("School")
    decision: SchoolReviewDecision = strawberry.field(description="Approve or reject")  # type: ignore[valid-type]
    reason: str | None = strawberry.field(default=None, description="Required when rejecting; shown to the registrant")


@strawberry.input(description="End a school's test launch: offer it to parents")
class OpenSchoolInput:
    school_id: relay.GlobalID = node_id("School")


@strawberry.input(description="Search schools")
class SchoolFilter:
    query: str | None = strawberry.field(
        default=None, description="A fragment of the full or short name (case and ё/е ignored), or the INN"
    )
    region_code: str | None = strawberry.field(
        default=None, description="Code of the subject of the Russian Federation (77 for Moscow)"
    )
    settlement_id: relay.GlobalID | None = strawberry.field(default=None, description="The settlement")
    status: SchoolStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those in this status"
    )
    type: SchoolType | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only schools of this kind"
    )


@strawberry.type(description="The school registered for verification, or why it was refused")
class RegisterSchoolPayload(Payload):
    school: School | None = strawberry.field(
        default=None, description="The school as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The school after an operator's decision, or why the decision was refused")
class ReviewSchoolPayload(Payload):
    school: School | None = strawberry.field(
        default=None, description="The school as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The school after it was opened for the diary, or why it was refused")
class OpenSchoolPayload(Payload):
    school: School | None = strawberry.field(
        default=None, description="The school as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
