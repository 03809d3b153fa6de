"""Root fields of integrations' service accounts: createIntegration,
rotateIntegrationSecret, revokeIntegration (School.integrations lists them)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import integrations
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.integration import (
    CreateIntegrationInput,
    CreateIntegrationPayload,
    IntegrationInput,
    RevokeIntegrationPayload,
    RotateIntegrationSecretPayload,
)

WHO = "; the school's admins only"


@strawberry.type
class IntegrationsMutation:
    create_integration: CreateIntegrationPayload = mutation(
        integrations.create_integration,
        CreateIntegrationInput,
        CreateIntegrationPayload,
        description="A service account for a third-party system at one school, with scopes: its client ID and "
        "secret (shown once) get tokens from POST /oauth/token (client credentials)" + WHO,
    )
    rotate_integration_secret: RotateIntegrationSecretPayload = mutation(
        integrations.rotate_integration_secret,
        IntegrationInput,
        RotateIntegrationSecretPayload,
        description="A new client secret (shown once); the old one keeps working for a grace period" + WHO,
    )
    revoke_integration: RevokeIntegrationPayload = mutation(
        integrations.revoke_integration,
        IntegrationInput,
        RevokeIntegrationPayload,
        description="End an integration for good: its secrets and tokens stop working and its open "
        "subscriptions end at once" + WHO,
    )
