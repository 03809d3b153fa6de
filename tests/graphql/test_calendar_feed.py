"""createCalendarFeed, revokeCalendarFeed and GET /calendar/<token>.ics over real HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64

from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from tests.diary_support import PASSWORD, School1, build_school, gid, token
from tests.factories import make_user
from tests.support import GraphQLClient

CREATE = """
mutation($i: CreateCalendarFeedInput!) {
  createCalendarFeed(input: $i) { url userErrors { field code message } }
}"""
REVOKE = "mutation { revokeCalendarFeed { revoked userErrors { code } } }"
DIARY_TIMES = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) { lessons { lesson { id startsAt endsAt } } }
}"""


async def _near_today(session: AsyncSession, world: School1) -> None:
    """Move the lessons next to today, inside the feed's window."""
    shift = dt.date.today() - world.lessons[0].date
    for lesson in (await session.scalars(select(Lesson).where(Lesson.class_id == world.school_class.id))).all():
        lesson.date += shift
    for homework in (await session.scalars(select(Homework).where(Homework.class_id == world.school_class.id))).all():
        homework.published_on += shift
        homework.due_on += shift
    await session.commit()


async def _create(gql: GraphQLClient, bearer: str, child_id: str | None) -> dict[str, Any]:
    data = await gql.data(CREATE, {"i": {"childId": child_id}}, token=bearer)
    payload: dict[str, Any] = data["createCalendarFeed"]
    return payload


async def _fetch(gql: GraphQLClient, url: str) -> tuple[int, bytes]:
    response = await gql.http.get(urlsplit(url).path)
    return response.status_code, response.content


async def test_parent_subscribes_to_a_childs_feed(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a week of lessons around today and the child's parent
    world = await build_school(session, weeks=1)
    await _near_today(session, world)
    parent = await token(gql, world.parent)

    # when the parent makes a feed for the child and a calendar app fetches it
    payload = await _create(gql, parent, gid("Child", world.children[0].id))
    assert payload["userErrors"] == []
    status, body = await _fetch(gql, payload["url"])

    # then it is an iCalendar file with the lessons (in the school's zone) and homework due dates
    assert status == 200
    calendar = icalendar.Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    lessons = [e for e in events if str(e["uid"]).startswith("lesson-")]
    homework = [e for e in events if str(e["uid"]).startswith("homework-")]
    assert len(lessons) == 10
    assert len(homework) == 5
    maths = next(e for e in lessons if str(e["summary"]) == "Математика")
    assert maths["dtstart"].params["TZID"] == "Europe/Moscow"
    assert maths.decoded("dtstart").tzinfo is not None
    assert str(maths["location"]) == "Кабинет 101"
    assert "Петрова Анна Ивановна" in str(maths["description"])
    assert isinstance(homework[0].decoded("dtstart"), dt.date)
    assert str(homework[0]["summary"]) == "Домашнее задание: Математика"
    assert [c["tzid"] for c in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]


async def test_teacher_gets_their_lessons(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=1)
    await _near_today(session, world)
    teacher = await token(gql, world.teacher)

    payload = await _create(gql, teacher, None)
    status, body = await _fetch(gql, payload["url"])

    assert status == 200
    summaries = {str(e["summary"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    assert summaries == {
        f"Математика, {world.school_class.level}{world.school_class.letter}",
        f"Русский язык, {world.school_class.level}{world.school_class.letter}",
    }


async def test_revoked_unknown_and_replaced_feeds_are_not_found(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=0)
    parent = await token(gql, world.parent)
    child = gid("Child", world.children[0].id)
    first = (await _create(gql, parent, child))["url"]
    second = (await _create(gql, parent, child))["url"]

    # a new feed replaces the old one
    assert (await _fetch(gql, first))[0] == 404
    assert (await _fetch(gql, second))[0] == 200
    # a made-up token is not found
    assert (await _fetch(gql, "/calendar/c1.not-a-secret.ics"))[0] == 404
    # revoking ends the feed
    revoked = await gql.data(REVOKE, token=parent)
    assert revoked["revokeCalendarFeed"] == {"revoked": True, "userErrors": []}
    assert (await _fetch(gql, second))[0] == 404
    again = await gql.data(REVOKE, token=parent)
    assert again["revokeCalendarFeed"]["revoked"] is False


async def test_only_the_secret_hash_is_stored(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=0)
    url = (await _create(gql, await token(gql, world.parent), gid("Child", world.children[0].id)))["url"]
    secret = urlsplit(url).path.removesuffix(".ics").rsplit(".", 1)[1]

    stored = await session.scalar(select(User.feed_token).where(User.id == world.parent.id))

    assert stored is not None
    assert secret not in stored
    assert len(stored) == 64


async def test_the_feed_token_grants_nothing_else(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await build_school(session, weeks=0)
    url = (await _create(gql, await token(gql, world.parent), gid("Child", world.children[0].id)))["url"]
    feed_token = urlsplit(url).path.removeprefix("/calendar/").removesuffix(".ics")

    body = await gql.post("{ me { id } }", token=feed_token)

    assert body["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


async def test_feed_of_a_child_not_yours_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    # given another child's parent, a teacher asking for a child, and someone with no post nor child
    world = await build_school(session, weeks=0)
    stranger = await make_user(session, password=PASSWORD)
    await session.commit()
    other_child = gid("Child", world.children[1].id)

    refused = await gql.post(CREATE, {"i": {"childId": other_child}}, token=await token(gql, world.parent))
    as_teacher = await gql.post(CREATE, {"i": {"childId": other_child}}, token=await token(gql, world.teacher))
    no_child = await _create(gql, await token(gql, stranger), None)
    anonymous = await gql.post(CREATE, {"i": {"childId": other_child}})

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_teacher["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert no_child == {
        "url": None,
        "userErrors": [
            {"field": ["childId"], "code": "REQUIRED", "message": "Укажите ребёнка, чьё расписание нужно в календаре"}
        ],
    }
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql.post(REVOKE))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


Times = dict[int, tuple[dt.datetime, dt.datetime]]


def _utc(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The instants, in UTC: equal instants compare equal, and a failure shows the hour that is off."""
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _vobject_lessons(body: bytes) -> Times:
    """Lesson id → (start, end) as vobject reads the feed. vobject keeps the first
    VTIMEZONE it met for a TZID for the whole process; forget those, as a calendar
    app reading this feed for the first time would."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [c["tzid"] for c in icalendar.Calendar.from_ical(body).walk("VTIMEZONE")]:
        registry.pop(str(tzid), None)
    calendar = vobject.readOne(body.decode())
    return {
        int(str(e.uid.value).removeprefix("lesson-").partition("@")[0]): _utc(e.dtstart.value, e.dtend.value)
        for e in calendar.vevent_list
        if str(e.uid.value).startswith("lesson-")
    }


def _icalendar_lessons(body: bytes) -> Times:
    return {
        int(str(e["uid"]).removeprefix("lesson-").partition("@")[0]): _utc(e.decoded("dtstart"), e.decoded("dtend"))
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(e["uid"]).startswith("lesson-")
    }


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Asia/Vladivostok"])
async def test_two_readers_get_the_lesson_times_of_the_api(
    gql: GraphQLClient, session: AsyncSession, zone: str
) -> None:
    # given a week of lessons around today at a school in `zone`
    world = await build_school(session, weeks=1)
    world.school.timezone = zone
    await session.commit()
    await _near_today(session, world)
    parent = await token(gql, world.parent)
    child = gid("Child", world.children[0].id)
    week = {"from": dt.date.today().isoformat(), "to": (dt.date.today() + dt.timedelta(days=6)).isoformat()}
    days = await gql.data(DIARY_TIMES, {"c": child, **week}, token=parent)
    api = {
        int(from_base64(item["lesson"]["id"])[1]): _utc(
            dt.datetime.fromisoformat(item["lesson"]["startsAt"]),
            dt.datetime.fromisoformat(item["lesson"]["endsAt"]),
        )
        for day in days["diary"]
        for item in day["lessons"]
    }
    assert len(api) == 10

    # when the feed is read by icalendar and by vobject
    _, body = await _fetch(gql, (await _create(gql, parent, child))["url"])

    # then both give the API's instants (vobject read Moscow's 1970–2014 history as +04:00)
    assert _icalendar_lessons(body) == api
    assert _vobject_lessons(body) == api
    # and the time zone holds only the span the feed covers, not the zone's history
    onsets = [
        c.decoded("dtstart") for tz in icalendar.Calendar.from_ical(body).walk("VTIMEZONE") for c in tz.subcomponents
    ]
    assert onsets
    assert min(onsets).date() >= dt.date.today() - dt.timedelta(days=31)
