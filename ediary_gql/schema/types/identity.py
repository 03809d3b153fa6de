"""The types of a person's identities at the portal and their consents to processing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import identities as models
from ediary_gql.errors import DomainError
from ediary_gql.resolvers import identities
from ediary_gql.schema.node import EntityNode
from ediary_gql.services.consents import ConsentState as ConsentStateResult

if TYPE_CHECKING:
    from ediary_gql.context import Context

ConsentMethod = strawberry.enum(
    models.ConsentMethod,
    description="FORM: in our own form or app; PROVIDER: while signing in with the portal; "
    "MIGRATED: kept from before consent records",
)


@strawberry.type(name="UserIdentity", description="An account at the portal's identity provider linked to yours")
class UserIdentity(EntityNode):
    model = models.UserIdentity

    id: relay.NodeID[int]
    provider: str = strawberry.field(description="The provider's issuer URL")
    linked_at: dt.datetime = strawberry.field(description="When the identity was linked to the account")
    last_sign_in_at: dt.datetime | None = strawberry.field(description="When it was last used to sign in")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.id, provider=row.provider, linked_at=row.linked_at, last_sign_in_at=row.last_sign_in_at)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return identities.may_view_identity(context, row)


@strawberry.type(
    name="ConsentRecord",
    description="A consent to the processing of personal data: which text, when, from where and how",
)
class ConsentRecord(EntityNode):
    model = models.ConsentRecord

    id: relay.NodeID[int]
    text_version: str = strawberry.field(description="Version of the consent text")
    given_at: dt.datetime = strawberry.field(description="When consent was given")
    address: str | None = strawberry.field(description="The client address it was given from")
    method: ConsentMethod = strawberry.field(description="How consent was given")  # type: ignore[valid-type]
    withdrawn_at: dt.datetime | None = strawberry.field(description="When it was withdrawn; null while in force")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            text_version=row.text_version,
            given_at=row.given_at,
            address=row.address,
            method=models.ConsentMethod(row.method),
            withdrawn_at=row.withdrawn_at,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return identities.may_view_consent(context, row)


@strawberry.type(description="Whether consent to the text now in force is still to be given")
class ConsentState:
    required: bool = strawberry.field(description="True: give consent (giveConsent) to keep using the diary")
    text_version: str = strawberry.field(description="The version of the consent text now in force")

    @classmethod
    def of(cls, state: ConsentStateResult) -> Self:
        return cls(required=state.required, text_version=state.text_version)


@strawberry.type(description="A sign-in answered CONSENT_REQUIRED: read the text of this version, then giveConsent")
class ConsentRequired:
    text_version: str = strawberry.field(description="Version of the consent text")
    consent_token: str = strawberry.field(description="For giveConsent (input.consentToken); good for 15 minutes")

    @classmethod
    def of_error(cls, error: DomainError) -> ConsentRequired | None:
        token = error.extra.get("consentToken")
        if not isinstance(token, str):
            return None
        return cls(text_version=str(error.extra.get("textVersion")), consent_token=token)
