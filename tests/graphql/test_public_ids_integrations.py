"""The public-ID walk of integrations: creating one, rotating its secret and revoking it
leave audit entries that name rows only by global IDs, under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests.diary_writes_support import make_world
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.integration_support import create_integration
from tests.support import GraphQLClient

ACTIONS: set[str] = {"createIntegration", "rotateIntegrationSecret", "revokeIntegration"}
KINDS: set[NotificationKind] = set()

ROTATE = """
mutation($i: IntegrationInput!) {
  rotateIntegrationSecret(input: $i) { clientSecret userErrors { field code message } }
}"""
REVOKE = """
mutation($i: IntegrationInput!) {
  revokeIntegration(input: $i) { userErrors { field code message } }
}"""


async def test_integrations(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    world = await make_world(session)
    admin, operator = [await world.token(gql, u) for u in (world.admin, world.operator)]
    made = await create_integration(gql, school_id=world.school.id, admin_token=admin, scopes=["roster:read"])
    assert made["userErrors"] == []
    ids = {"i": {"integrationId": made["integration"]["id"]}}
    rotated = await gql.data(ROTATE, ids, token=admin)
    assert rotated["rotateIntegrationSecret"]["userErrors"] == []
    revoked = await gql.data(REVOKE, ids, token=admin)
    assert revoked["revokeIntegration"]["userErrors"] == []
    await _assert_public_everywhere(gql, app_services, actions=ACTIONS, kinds=KINDS, operator=operator, admins=[admin])
