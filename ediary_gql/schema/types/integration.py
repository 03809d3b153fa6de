"""The Integration type (a school's service account), and the inputs and payloads of
createIntegration, rotateIntegrationSecret and revokeIntegration."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.integrations import Integration as IntegrationRow
from ediary_gql.resolvers import integrations
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.user import User
from ediary_gql.services.integrations import NewSecret

if TYPE_CHECKING:
    from ediary_gql.context import Context

IntegrationStatus = strawberry.enum(
    enums.IntegrationStatus, description="ACTIVE: it gets tokens; REVOKED: for good, its tokens refused"
)
SCOPES = ", ".join(scope.value for scope in enums.IntegrationScope)


@strawberry.type(
    name="Integration",
    description="A school's service account: a third-party system that gets tokens from POST /oauth/token "
    "(OAuth2 client credentials) and acts at that one school within its scopes",
)
class Integration(EntityNode):
    model = IntegrationRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    client_id: str = strawberry.field(description="Sent with the secret to POST /oauth/token; not a secret itself")
    scopes: list[str] = strawberry.field(description=f"What its tokens may be granted: {SCOPES}")
    status: IntegrationStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the integration is in its life cycle"
    )
    created_at: dt.datetime = strawberry.field(description="When the integration was created")
    revoked_at: dt.datetime | None = strawberry.field(description="When it was revoked; null while active")
    last_token_at: dt.datetime | None = strawberry.field(description="When it last got a token")
    _user_id: strawberry.Private[int]
    _created_by_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            client_id=row.client_id,
            scopes=list(row.scopes),
            status=enums.IntegrationStatus(row.status),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            last_token_at=row.last_token_at,
            _user_id=row.user_id,
            _created_by_id=row.created_by_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return integrations.may_view(context, row)

    @strawberry.field(
        description="The user it acts through: the author of what it writes, the actor of its audit entries"
    )
    async def user(self, info: strawberry.Info[Context, None]) -> User | None:
        row = await integrations.user_of(info.context, self._user_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="The school admin who created it")
    async def created_by(self, info: strawberry.Info[Context, None]) -> User | None:
        if self._created_by_id is None:
            return None
        row = await integrations.user_of(info.context, self._created_by_id)
        return User.from_row(row) if row is not None else None


@strawberry.input(description="A new integration of a school")
class CreateIntegrationInput:
    school_id: relay.GlobalID = node_id("School")
    name: str = strawberry.field(description="What the system is, as the school's staff know it")
    scopes: list[str] = strawberry.field(description=f"One or more of: {SCOPES}")


@strawberry.input(description="The integration (service account) to act on")
class IntegrationInput:
    integration_id: relay.GlobalID = node_id("Integration")


@strawberry.type(description="A new integration with its credentials: the secret is shown only now")
class CreateIntegrationPayload(Payload):
    integration: Integration | None = strawberry.field(
        default=None, description="The integration as it now is; null when the input was refused"
    )
    client_id: str | None = strawberry.field(
        default=None, description="The OAuth2 client ID of the new integration; null when the input was refused"
    )
    client_secret: str | None = strawberry.field(
        default=None, description="Shown only now (only its hash is kept): store it in the integrating system"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: NewSecret) -> Self:
        row = result.integration
        return cls(integration=Integration.from_row(row), client_id=row.client_id, client_secret=result.secret)


@strawberry.type(description="A new secret; the previous one keeps working until previousSecretExpiresAt")
class RotateIntegrationSecretPayload(Payload):
    integration: Integration | None = strawberry.field(
        default=None, description="The integration as it now is; null when the input was refused"
    )
    client_secret: str | None = strawberry.field(default=None, description="Shown only now")
    previous_secret_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Until when the replaced secret still works (INTEGRATION_SECRET_GRACE_HOURS)"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: NewSecret) -> Self:
        return cls(
            integration=Integration.from_row(result.integration),
            client_secret=result.secret,
            previous_secret_expires_at=result.previous_until,
        )


@strawberry.type(description="The integration after its access was revoked, or why it was refused")
class RevokeIntegrationPayload(Payload):
    integration: Integration | None = strawberry.field(
        default=None, description="The integration as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
