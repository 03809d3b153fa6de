"""The notification inbox: a keyset-paged connection, private to its owner."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import UserStatus
from tests.factories import make_notification, make_user
from tests.support import GraphQLClient, StatementCounter

PASSWORD = "correct horse battery"
INBOX = """query($first: Int, $after: String, $last: Int, $before: String, $unread: Boolean) {
  notifications(first: $first, after: $after, last: $last, before: $before, unread: $unread) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { title isRead } }
  }
}"""


async def _inbox(session: AsyncSession, count: int) -> None:
    anna = await make_user(session, email="anna@example.ru", password=PASSWORD, status=UserStatus.CONFIRMED)
    boris = await make_user(session, email="boris@example.ru", password=PASSWORD, status=UserStatus.CONFIRMED)
    for i in range(count):
        await make_notification(session, user_id=anna.id, title=f"n{i}", body="")
    await make_notification(session, user_id=boris.id, title="чужое", body="")
    await session.commit()


async def test_pages_forward_and_back_newest_first(gql: GraphQLClient, session: AsyncSession) -> None:
    await _inbox(session, 7)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    first = (await gql.data(INBOX, {"first": 3}, token=token))["notifications"]
    assert first["totalCount"] == 7
    assert [e["node"]["title"] for e in first["edges"]] == ["n6", "n5", "n4"]
    assert first["pageInfo"]["hasNextPage"] is True

    second = await gql.data(INBOX, {"first": 3, "after": first["pageInfo"]["endCursor"]}, token=token)
    assert [e["node"]["title"] for e in second["notifications"]["edges"]] == ["n3", "n2", "n1"]
    assert second["notifications"]["pageInfo"]["hasPreviousPage"] is True

    back = await gql.data(INBOX, {"last": 2, "before": second["notifications"]["pageInfo"]["startCursor"]}, token=token)
    assert [e["node"]["title"] for e in back["notifications"]["edges"]] == ["n5", "n4"]


async def test_unread_filter_and_mark_read(gql: GraphQLClient, session: AsyncSession) -> None:
    await _inbox(session, 3)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    marked = await gql.data("mutation { markNotificationsRead(input: {}) { marked userErrors { code } } }", token=token)
    assert marked["markNotificationsRead"] == {"marked": 3, "userErrors": []}
    unread = (await gql.data(INBOX, {"unread": True}, token=token))["notifications"]
    assert unread["totalCount"] == 0


async def test_mark_read_needs_no_input_to_mark_everything(gql: GraphQLClient, session: AsyncSession) -> None:
    # given three unread notifications of Anna's and one of Boris's
    await _inbox(session, 3)
    anna = await gql.sign_in("anna@example.ru", PASSWORD)

    # when Anna marks them read with no input at all
    marked = await gql.data("mutation { markNotificationsRead { marked userErrors { code } } }", token=anna)

    # then all of hers are read, and Boris's is not
    assert marked["markNotificationsRead"] == {"marked": 3, "userErrors": []}
    assert (await gql.data(INBOX, {"unread": True}, token=anna))["notifications"]["totalCount"] == 0
    boris = await gql.sign_in("boris@example.ru", PASSWORD)
    assert (await gql.data(INBOX, {"unread": True}, token=boris))["notifications"]["totalCount"] == 1
    # and `input: null` is the same
    again = await gql.data("mutation { markNotificationsRead(input: null) { marked } }", token=boris)
    assert again["markNotificationsRead"] == {"marked": 1}


async def test_page_cap_is_a_clear_error(gql: GraphQLClient, session: AsyncSession) -> None:
    await _inbox(session, 1)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    body = await gql.post(INBOX, {"first": 100000}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": ["first"]}


async def test_bad_cursor_is_a_clear_error(gql: GraphQLClient, session: AsyncSession) -> None:
    await _inbox(session, 1)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    body = await gql.post(INBOX, {"after": "garbage!"}, token=token)
    assert body["errors"][0]["extensions"]["field"] == ["after"]


async def test_inbox_needs_sign_in(gql: GraphQLClient, server: str) -> None:
    body = await gql.post(INBOX)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_statement_count_does_not_grow_with_rows(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    await _inbox(session, 30)
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    with sql_counter:
        await gql.data(INBOX, {"first": 2}, token=token)
    small = sql_counter.count
    with sql_counter:
        await gql.data(INBOX, {"first": 30}, token=token)
    # authentication (1), the page (1) and totalCount (1), however many rows
    assert sql_counter.count == small == 3
