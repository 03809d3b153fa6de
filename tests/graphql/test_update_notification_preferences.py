"""updateNotificationPreferences and User.notificationPreferences over real HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import Channel, NotificationKind, UserStatus
from ediary_gql.db.models.notifications import NotificationDelivery
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.notifications import notify
from tests.factories import make_operator, make_user
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
UPDATE = """
mutation($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) {
    preferences { kind channels isDefault }
    userErrors { field code message }
  }
}"""
MINE = "{ me { id notificationPreferences { kind channels isDefault } } }"
THEIRS = """query($id: ID!) {
  node(id: $id) { ... on User { fullName notificationPreferences { kind channels } } }
}"""
CONFIGURABLE = [k.value for k in NotificationKind if k != NotificationKind.VERIFICATION_CODE]


async def _signed_in(session: AsyncSession, gql: GraphQLClient, email: str, **overrides: Any) -> tuple[int, str]:
    user = await make_user(session, email=email, password=PASSWORD, status=UserStatus.CONFIRMED, **overrides)
    await session.commit()
    return user.id, await gql.sign_in(email, PASSWORD)


def _by_kind(preferences: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["kind"]: p for p in preferences}


async def test_a_user_chooses_channels_and_notifications_follow_them(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    # given a signed-in parent on the defaults
    user_id, token = await _signed_in(session, gql, "anna@example.ru")
    before = _by_kind((await gql.data(MINE, token=token))["me"]["notificationPreferences"])
    assert list(before) == CONFIGURABLE
    assert before["SECURITY"] == {"kind": "SECURITY", "channels": ["EMAIL", "PUSH"], "isDefault": True}
    assert before["GRADE"] == {"kind": "GRADE", "channels": ["PUSH"], "isDefault": True}

    # when they ask for grades by SMS and email, and no deliveries for homework
    data = await gql.data(
        UPDATE,
        {
            "i": {
                "preferences": [
                    {"kind": "GRADE", "channels": ["SMS", "EMAIL", "SMS"]},
                    {"kind": "HOMEWORK", "channels": []},
                ]
            }
        },
        token=token,
    )

    # then the payload has every kind's channels after the change
    payload = data["updateNotificationPreferences"]
    assert payload["userErrors"] == []
    after = _by_kind(payload["preferences"])
    assert list(after) == CONFIGURABLE
    assert after["GRADE"] == {"kind": "GRADE", "channels": ["SMS", "EMAIL"], "isDefault": False}
    assert after["HOMEWORK"] == {"kind": "HOMEWORK", "channels": [], "isDefault": False}
    assert after["SECURITY"] == before["SECURITY"]
    # and the user reads the same back
    mine = (await gql.data(MINE, token=token))["me"]["notificationPreferences"]
    assert mine == payload["preferences"]
    # and the change is audited
    async with app_services.session_factory() as s:
        [entry] = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "updateNotificationPreferences"))
        ).all()
        assert (entry.actor_user_id, entry.entity_type, entry.entity_id) == (user_id, "User", user_id)
        assert entry.before == {"notificationPrefs": {}}
        assert entry.after == {"notificationPrefs": {"GRADE": ["SMS", "EMAIL"], "HOMEWORK": []}}
        user = await s.get(User, user_id)
    assert user is not None

    # and new notifications are delivered by the chosen channels
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        grade = await notify(tx, user=user, kind=NotificationKind.GRADE, title="Новая оценка", body="5")
        homework = await notify(tx, user=user, kind=NotificationKind.HOMEWORK, title="Задание", body="§ 12")
    async with app_services.session_factory() as s:
        rows = (await s.execute(select(NotificationDelivery.notification_id, NotificationDelivery.channel))).all()
    assert sorted(rows) == [(grade.id, Channel.EMAIL), (grade.id, Channel.SMS)]
    assert homework.id not in {n for n, _ in rows}


async def test_every_problem_is_reported_at_once_and_nothing_is_saved(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    # given a user without a phone
    user_id, token = await _signed_in(session, gql, "boris@example.ru", phone=None)

    # when they send a list with several problems
    data = await gql.data(
        UPDATE,
        {
            "i": {
                "preferences": [
                    {"kind": "VERIFICATION_CODE", "channels": ["PUSH"]},
                    {"kind": "GRADE", "channels": ["PUSH", "SMS"]},
                    {"kind": "GRADE", "channels": ["PUSH"]},
                    {"kind": "SECURITY", "channels": []},
                    {"kind": "MESSAGE", "channels": ["EMAIL"]},
                ]
            }
        },
        token=token,
    )

    # then each is named by its path, and the preferences are as they were
    payload = data["updateNotificationPreferences"]
    assert payload["preferences"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["preferences", "0", "kind"], "INVALID"),
        (["preferences", "1", "channels", "1"], "INVALID"),
        (["preferences", "2", "kind"], "DUPLICATE"),
        (["preferences", "3", "channels"], "REQUIRED"),
    ]
    assert all(e["message"] for e in payload["userErrors"])
    assert "телефона" in payload["userErrors"][1]["message"]
    mine = _by_kind((await gql.data(MINE, token=token))["me"]["notificationPreferences"])
    assert all(p["isDefault"] for p in mine.values())
    async with app_services.session_factory() as s:
        audited = await s.scalars(select(AuditEntry).where(AuditEntry.action == "updateNotificationPreferences"))
        assert audited.first() is None
        assert (await s.get(User, user_id)).notification_prefs == {}  # type: ignore[union-attr]


async def test_email_cannot_be_chosen_without_an_address(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a user who signs in by phone and has no email
    await make_user(session, phone="+79031112233", email=None, password=PASSWORD)
    await session.commit()
    token = await gql.sign_in("+79031112233", PASSWORD)

    # when they ask for grades by email
    data = await gql.data(UPDATE, {"i": {"preferences": [{"kind": "GRADE", "channels": ["EMAIL"]}]}}, token=token)

    # then they are told why
    [error] = data["updateNotificationPreferences"]["userErrors"]
    assert (error["field"], error["code"]) == (["preferences", "0", "channels", "0"], "INVALID")
    assert "электронной почты" in error["message"]


async def test_anonymous_cannot_change_preferences(gql: GraphQLClient, server: str) -> None:
    body = await gql.post(UPDATE, {"i": {"preferences": [{"kind": "GRADE", "channels": []}]}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_preferences_are_seen_only_by_the_user_themself(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a parent who changed a preference, a portal operator and another parent
    anna_id, anna = await _signed_in(session, gql, "anna@example.ru")
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    operator = await gql.sign_in("operator@example.ru", PASSWORD)
    _, boris = await _signed_in(session, gql, "boris@example.ru")
    await gql.data(UPDATE, {"i": {"preferences": [{"kind": "GRADE", "channels": ["EMAIL"]}]}}, token=anna)
    anna_gid = (await gql.data(MINE, token=anna))["me"]["id"]

    # when each reads Anna's card
    own = (await gql.data(THEIRS, {"id": anna_gid}, token=anna))["node"]
    by_operator = (await gql.data(THEIRS, {"id": anna_gid}, token=operator))["node"]
    by_boris = (await gql.data(THEIRS, {"id": anna_gid}, token=boris))["node"]
    anonymous = (await gql.data(THEIRS, {"id": anna_gid}))["node"]

    # then only Anna sees how she is notified; the operator sees the card without it
    assert {"kind": "GRADE", "channels": ["EMAIL"]} in own["notificationPreferences"]
    assert by_operator["fullName"]
    assert by_operator["notificationPreferences"] is None
    assert by_boris is None
    assert anonymous is None
    assert anna_id > 0


async def test_one_users_change_does_not_touch_anothers(gql: GraphQLClient, session: AsyncSession) -> None:
    # given two parents
    _, anna = await _signed_in(session, gql, "anna@example.ru")
    _, boris = await _signed_in(session, gql, "boris@example.ru")

    # when Boris turns grade deliveries off
    data = await gql.data(UPDATE, {"i": {"preferences": [{"kind": "GRADE", "channels": []}]}}, token=boris)
    assert data["updateNotificationPreferences"]["userErrors"] == []

    # then only his own preferences changed
    boris_grade = _by_kind((await gql.data(MINE, token=boris))["me"]["notificationPreferences"])["GRADE"]
    anna_grade = _by_kind((await gql.data(MINE, token=anna))["me"]["notificationPreferences"])["GRADE"]
    assert boris_grade == {"kind": "GRADE", "channels": [], "isDefault": False}
    assert anna_grade == {"kind": "GRADE", "channels": ["PUSH"], "isDefault": True}
