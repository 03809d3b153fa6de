"""The public-ID walk of personal data: an export asked for and made (its audit entry and
the notice that it is ready), erasure requests rejected and carried out (their entries,
the outcome, the notice of a rejection) name rows only by global IDs, under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.services.personal_data.export import ExportWorker
from ediary_gql.settings import Settings
from ediary_gql.storage import storage_for
from tests.diary_writes_support import make_world
from tests.graphql.test_personal_data import DECIDE_ERASURE, REQUEST_ERASURE, REQUEST_MY_DATA
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.support import GraphQLClient

ACTIONS: set[str] = {"requestMyData", "requestErasure", "decideErasure"}
KINDS: set[NotificationKind] = {NotificationKind.PERSONAL_DATA}


async def test_personal_data(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    world = await make_world(session)
    parent, other, operator = [await world.token(gql, u) for u in (world.parent, world.other_parent, world.operator)]
    assert (await gql.data(REQUEST_MY_DATA, token=parent))["requestMyData"]["userErrors"] == []
    worker = ExportWorker(session_factory=app_services.session_factory, storage=storage_for(settings.upload_dir))
    assert await worker.drain() == 1
    for token, decision in ((parent, "REJECT"), (other, "APPROVE")):
        asked = await gql.data(REQUEST_ERASURE, {"i": {"includeChildren": True}}, token=token)
        request_id = asked["requestErasure"]["dataRequest"]["id"]
        decided = await gql.data(
            DECIDE_ERASURE,
            {"i": {"requestId": request_id, "decision": decision, "holds": "Оценки хранятся обезличенными"}},
            token=operator,
        )
        assert decided["decideErasure"]["userErrors"] == []
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent], operator=operator
    )
