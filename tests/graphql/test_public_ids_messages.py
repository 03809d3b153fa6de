"""The public-ID walk of messages: every action the messaging service audits and every
kind it notifies, driven over HTTP, leaves only global IDs under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests import diary_writes_support as diary
from tests.graphql.test_public_ids import _assert_public_everywhere, _do, gid
from tests.support import GraphQLClient

ACTIONS: set[str] = {"startThread", "sendMessage", "markThreadRead", "leaveThread"}
KINDS: set[NotificationKind] = {NotificationKind.MESSAGE}


async def test_message_workflows(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    world = await diary.make_world(session)
    await session.commit()
    teacher, parent = await world.token(gql, world.teacher), await world.token(gql, world.parent)
    op, admin = await world.token(gql, world.operator), await world.token(gql, world.admin)
    started = await _do(
        gql, teacher, "startThread", "thread { id }",
        subject="Об успеваемости", childId=gid("Child", world.child.id),
        participantIds=[gid("User", world.parent.id)], text="Здравствуйте",
    )  # fmt: skip
    thread = started["thread"]["id"]
    await _do(gql, parent, "sendMessage", threadId=thread, text="Добрый день")
    await _do(gql, teacher, "markThreadRead", threadId=thread)
    await _do(gql, parent, "leaveThread", threadId=thread)
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent, teacher], operator=op, admins=[admin]
    )
