"""No personal data where it does not belong: error messages never echo a SNILS or a
birth certificate that was sent, and a subscription payload carries a child's documents
only to those entitled to them (the teacher following the same grades reads null)."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.personal_data import SensitiveRead
from ediary_gql.events import channels
from tests import application_support as apps
from tests.diary_writes_support import World, enter_grade, gid
from tests.support import GraphQLClient, data_of, wait_subscribed, ws_connect

BAD_SNILS = "112-233-445 96"  # a wrong checksum
FOLLOW = """subscription($child: ID!) {
  gradeEvents(childId: $child) { action grade { id child { snils birthCertificate { number } } } } }"""


async def test_error_messages_do_not_echo_documents(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await apps.make_world(session, gql)
    parent = world.parent.token
    data = apps.form(world, snils=BAD_SNILS, birthCertificate={"series": "iv-аб", "number": "99999x"})
    body = await gql.post(apps.CREATE, {"i": data}, token=parent)
    errors = body["data"]["createApplication"]["userErrors"]
    assert ["child", "snils"] in [e["field"] for e in errors]
    text = json.dumps(body, ensure_ascii=False)
    assert BAD_SNILS not in text
    assert "11223344596" not in text
    assert "99999x" not in text
    # a SNILS typed where an ID belongs, in a literal and in a variable
    for query, variables in (
        ('{ child(id: "11223344596") { id } }', None),
        ("query($id: ID!) { child(id: $id) { id } }", {"id": 11223344596}),
        ('{ child(id: "11223344596") { snils nope } }', None),
    ):
        answer = json.dumps(await gql.post(query, variables, token=parent), ensure_ascii=False)
        assert "11223344596" not in answer, answer


async def test_subscription_payloads_carry_documents_only_to_those_entitled(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as parent_ws, ws_connect(ws_url) as teacher_ws:
        await parent_ws.start(
            FOLLOW, {"child": gid("Child", world.child.id)}, token=await world.token(gql, world.parent)
        )
        await teacher_ws.start(FOLLOW, {"child": gid("Child", world.child.id)}, token=teacher)
        await wait_subscribed(app_services, channels.child_grades(world.child.id), count=2)
        await enter_grade(gql, teacher, world, lesson, "5")
        to_parent = data_of(await parent_ws.receive(within=2.0))
        to_teacher = data_of(await teacher_ws.receive(within=2.0))
    assert to_parent["grade"]["child"]["snils"] == world.child.snils
    assert to_teacher["grade"]["child"] == {"snils": None, "birthCertificate": None}
    assert (world.child.snils or "-") not in json.dumps(to_teacher)


async def test_documents_sent_in_a_subscription_are_audited(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    async with ws_connect(ws_url) as ws:
        await ws.start(FOLLOW, {"child": gid("Child", world.child.id)}, token=await world.token(gql, world.parent))
        await wait_subscribed(app_services, channels.child_grades(world.child.id))
        await enter_grade(gql, teacher, world, lesson, "5")
        data_of(await ws.receive(within=2.0))
        fields: list[str] = []
        for _ in range(40):
            async with app_services.session_factory() as s:
                fields = list(
                    (
                        await s.scalars(
                            select(SensitiveRead.field).where(
                                SensitiveRead.child_id == world.child.id, SensitiveRead.reader_id == world.parent.id
                            )
                        )
                    ).all()
                )
            if fields:
                break
            await asyncio.sleep(0.05)
    # written as the event went out, in the subscription's name
    assert sorted(fields) == ["Child.birthCertificate", "Child.snils"]
