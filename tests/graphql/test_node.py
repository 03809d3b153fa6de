"""node / nodes lookups by global ID, guarded by the policy."""

from __future__ import annotations

import base64

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import UserStatus
from tests.factories import make_notification, make_user
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
NODE = """query($id: ID!) { node(id: $id) { __typename id ... on User { firstName email phone }
  ... on Notification { title } } }"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def _people(session: AsyncSession) -> tuple[int, int, int]:
    anna = await make_user(
        session,
        email="anna@example.ru",
        phone="+79160000001",
        password=PASSWORD,
        status=UserStatus.CONFIRMED,
    )
    boris = await make_user(
        session,
        email="boris@example.ru",
        phone="+79160000002",
        password=PASSWORD,
        status=UserStatus.CONFIRMED,
    )
    note = await make_notification(session, user_id=anna.id, title="Привет", body="Текст")
    await session.commit()
    return anna.id, boris.id, note.id


async def test_own_user_and_notification_by_global_id(gql: GraphQLClient, session: AsyncSession) -> None:
    anna, _, note = await _people(session)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    me = await gql.data(NODE, {"id": gid("User", anna)}, token=token)
    assert me["node"] == {
        "__typename": "User",
        "id": gid("User", anna),
        "firstName": me["node"]["firstName"],
        "email": "anna@example.ru",
        "phone": "+79160000001",
    }
    data = await gql.data(NODE, {"id": gid("Notification", note)}, token=token)
    assert data["node"]["title"] == "Привет"


async def test_someone_elses_objects_are_null_like_missing_ones(gql: GraphQLClient, session: AsyncSession) -> None:
    anna, boris, note = await _people(session)
    token = await gql.sign_in("boris@example.ru", PASSWORD)
    assert (await gql.data(NODE, {"id": gid("User", anna)}, token=token))["node"] is None
    assert (await gql.data(NODE, {"id": gid("Notification", note)}, token=token))["node"] is None
    assert (await gql.data(NODE, {"id": gid("Notification", 999999)}, token=token))["node"] is None
    assert (await gql.data(NODE, {"id": gid("User", boris)}, token=token))["node"]["email"] == "boris@example.ru"


async def test_anonymous_sees_nothing(gql: GraphQLClient, session: AsyncSession) -> None:
    anna, _, _ = await _people(session)
    assert (await gql.data(NODE, {"id": gid("User", anna)}))["node"] is None


async def test_operator_sees_users_with_contacts(gql: GraphQLClient, session: AsyncSession) -> None:
    anna, _, note = await _people(session)
    await make_user(
        session,
        email="op@example.ru",
        password=PASSWORD,
        status=UserStatus.CONFIRMED,
        is_operator=True,
    )
    await session.commit()
    token = await gql.sign_in("op@example.ru", PASSWORD)
    user = (await gql.data(NODE, {"id": gid("User", anna)}, token=token))["node"]
    assert user["email"] == "anna@example.ru"
    # an operator sees no one's private inbox
    assert (await gql.data(NODE, {"id": gid("Notification", note)}, token=token))["node"] is None


async def test_nodes_keeps_order_and_nulls(gql: GraphQLClient, session: AsyncSession) -> None:
    anna, boris, note = await _people(session)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": [gid("Notification", note), gid("User", boris), gid("User", anna)]},
        token=token,
    )
    assert [n and n["__typename"] for n in data["nodes"]] == ["Notification", None, "User"]


async def test_malformed_global_id_is_a_clear_error(gql: GraphQLClient, server: str) -> None:
    body = await gql.post(NODE, {"id": "%%%not-base64"})
    assert body["errors"]
    assert "Traceback" not in str(body)


async def test_unknown_type_in_global_id(gql: GraphQLClient, server: str) -> None:
    body = await gql.post(NODE, {"id": gid("Nope", 1)})
    assert body["errors"]
    assert "Внутренняя ошибка" not in body["errors"][0]["message"]
