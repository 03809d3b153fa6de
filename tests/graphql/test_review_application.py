"""reviewApplication and the review queue over real HTTP: transitions, refusals, races."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64, to_base64

from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.children import Guardianship
from ediary_gql.db.models.enums import ApplicationStatus, StaffRole
from ediary_gql.db.models.notifications import Notification
from ediary_gql.services.applications.deadlines import local_date
from ediary_gql.services.production_calendar import load_calendar
from tests.application_support import (
    SCAN,
    UPDATE,
    create,
    form,
    make_world,
    person,
    review,
    staff,
    submit,
    submitted,
    with_place,
)
from tests.factories import (
    make_application,
    make_application_attachment,
    make_application_event,
    make_school,
    make_school_class,
)
from tests.support import GraphQLClient, StatementCounter

QUEUE = """query($f: ApplicationFilter, $first: Int, $after: String) {
  applications(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id number status dueOn overdue } }
  }
}"""


def _pk(global_id: str) -> int:
    return int(from_base64(global_id)[1])


async def _to(gql: GraphQLClient, token: str, app_id: str, *actions: str) -> None:
    for action in actions:
        result = await review(gql, token, app_id, action)
        assert result["userErrors"] == [], result


@pytest.mark.parametrize(
    ("steps", "action", "status"),
    [
        ((), "START_REVIEW", "SUBMITTED"),
        ((), "APPROVE", "SUBMITTED"),
        ((), "REQUEST_CORRECTION", "SUBMITTED"),
        (("ACCEPT",), "ACCEPT", "ACCEPTED"),
        (("ACCEPT",), "APPROVE", "ACCEPTED"),
        (("ACCEPT", "START_REVIEW"), "ACCEPT", "IN_REVIEW"),
        (("ACCEPT", "START_REVIEW"), "START_REVIEW", "IN_REVIEW"),
        (("ACCEPT", "START_REVIEW", "APPROVE"), "REJECT", "APPROVED"),
        (("ACCEPT", "START_REVIEW", "APPROVE"), "EXTEND", "APPROVED"),
    ],
)
async def test_an_action_the_machine_does_not_allow_names_the_status(
    gql: GraphQLClient, session: AsyncSession, steps: tuple[str, ...], action: str, status: str
) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    await _to(gql, world.admin.token, app["id"], *steps)
    result = await review(gql, world.admin.token, app["id"], action, comment="Комментарий")
    assert result["application"] is None
    [error] = result["userErrors"]
    assert (error["field"], error["code"]) == (["action"], "INVALID_STATE")
    assert status in error["message"]


async def test_rejection_needs_a_reason_and_tells_the_parent(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    # without a reason it is refused
    result = await review(gql, world.admin.token, app["id"], "REJECT", comment="   ")
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["comment"], "REQUIRED")]
    # with one, the application is rejected and the parent told why
    result = await review(gql, world.admin.token, app["id"], "REJECT", comment="Ребёнок не проживает в районе")
    assert result["userErrors"] == []
    assert result["application"]["status"] == "REJECTED"
    assert result["application"]["rejectionReason"] == "Ребёнок не проживает в районе"
    note = (
        await session.scalars(
            select(Notification).where(Notification.user_id == world.parent.user_id).order_by(Notification.id.desc())
        )
    ).first()
    assert note is not None
    assert note.title == "Заявка отклонена"
    assert app["number"] in note.body
    assert "Ребёнок не проживает в районе" in note.body
    assert result["application"]["history"][-1]["comment"] == "Ребёнок не проживает в районе"


async def test_a_correction_round(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    await _to(gql, world.admin.token, app["id"], "ACCEPT")
    # a correction needs a comment
    result = await review(gql, world.admin.token, app["id"], "REQUEST_CORRECTION")
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["comment"], "REQUIRED")]
    # when the admin returns it for correction
    result = await review(gql, world.admin.token, app["id"], "REQUEST_CORRECTION", comment="Уточните отчество")
    assert result["application"]["status"] == "NEEDS_CORRECTION"
    # then the parent may edit and resubmit it
    mine = "query($id: ID!) { application(id: $id) { availableActions } }"
    read = await gql.data(mine, {"id": app["id"]}, token=world.parent.token)
    assert read["application"]["availableActions"] == ["UPDATE", "SUBMIT"]
    data = await with_place(session, world, form(world, middleName="Сергеевна-Ивановна"))
    fixed = await gql.data(UPDATE, {"i": {"applicationId": app["id"], **data}}, token=world.parent.token)
    assert fixed["updateApplication"]["userErrors"] == []
    assert fixed["updateApplication"]["application"]["status"] == "NEEDS_CORRECTION"
    again = await submit(gql, world.parent.token, app["id"])
    assert again["userErrors"] == []
    # it keeps its number, and goes round again to approval
    assert again["application"]["status"] == "SUBMITTED"
    assert again["application"]["number"] == app["number"]
    await _to(gql, world.admin.token, app["id"], "ACCEPT", "START_REVIEW", "APPROVE")
    assert (await review(gql, world.admin.token, app["id"], "EXTEND"))["userErrors"][0]["code"] == "INVALID_STATE"
    assert (await session.scalars(select(Guardianship))).one().parent_id == world.parent.user_id


async def test_the_school_cannot_be_changed_during_a_correction(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    other = await make_school(session, settlement_id=world.school.settlement_id)
    other_class = await make_school_class(session, school_id=other.id)
    await session.commit()
    app = await submitted(session, gql, world)
    await _to(gql, world.admin.token, app["id"], "ACCEPT")
    await review(gql, world.admin.token, app["id"], "REQUEST_CORRECTION", comment="Проверьте класс")
    data = await with_place(session, world, form(world))
    data |= {"schoolId": to_base64("School", other.id), "classId": to_base64("SchoolClass", other_class.id)}
    result = await gql.data(UPDATE, {"i": {"applicationId": app["id"], **data}}, token=world.parent.token)
    assert [(e["field"], e["code"]) for e in result["updateApplication"]["userErrors"]] == [
        (["schoolId"], "INVALID_STATE")
    ]


async def test_extend_gives_ten_working_days_from_submission_once(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    # the due date counts from the day of submission in the school's zone, not in UTC
    submitted_on = local_date(dt.datetime.fromisoformat(app["submittedAt"]), world.school)
    result = await review(gql, world.admin.token, app["id"], "EXTEND", comment="Запрос в ЗАГС")
    assert result["userErrors"] == []
    extended = result["application"]
    assert extended["extended"] is True
    assert extended["status"] == "SUBMITTED"
    calendar = await load_calendar(session, submitted_on)
    assert dt.date.fromisoformat(extended["dueOn"]) == calendar.add_working_days(submitted_on, 10)
    again = await review(gql, world.admin.token, app["id"], "EXTEND")
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["action"], "INVALID_STATE")]
    note = (
        await session.scalars(
            select(Notification).where(Notification.user_id == world.parent.user_id).order_by(Notification.id.desc())
        )
    ).first()
    assert note is not None
    assert note.title == "Срок рассмотрения продлён"


async def test_two_reviewers_at_once_cannot_both_win(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    second = await staff(session, gql, "admin2@school.example.ru", world.school)
    app = await submitted(session, gql, world)
    await _to(gql, world.admin.token, app["id"], "ACCEPT", "START_REVIEW")
    # when two admins decide at the same moment, one approving and one rejecting
    results = await asyncio.gather(
        review(gql, world.admin.token, app["id"], "APPROVE"),
        review(gql, second.token, app["id"], "REJECT", comment="Не та школа"),
    )
    # then exactly one wins, and the other is told the status it found
    winners = [r for r in results if not r["userErrors"]]
    losers = [r for r in results if r["userErrors"]]
    assert len(winners) == 1
    assert len(losers) == 1
    final = winners[0]["application"]["status"]
    [error] = losers[0]["userErrors"]
    assert error["code"] == "INVALID_STATE"
    assert final in error["message"]
    row = await session.get(Application, _pk(app["id"]))
    assert row is not None
    assert row.status == final
    # and the history has one decision
    decisions = [h for h in winners[0]["application"]["history"] if h["action"] in ("APPROVE", "REJECT")]
    assert len(decisions) == 1
    guardians = (await session.scalars(select(Guardianship))).all()
    assert len(guardians) == (1 if final == "APPROVED" else 0)


async def test_others_may_not_review(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    app = await submitted(session, gql, world)
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    other_admin = await staff(session, gql, "admin@other.example.ru", await make_school(session))
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)
    # those who cannot see it: not found
    for stranger in (teacher, other_admin):
        result = await review(gql, stranger.token, app["id"], "ACCEPT")
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["applicationId"], "NOT_FOUND")]
    # those who see it but do not review: forbidden
    for reader in (world.parent, operator):
        body = await gql.post(
            "mutation($i: ReviewApplicationInput!) { reviewApplication(input: $i) { userErrors { code } } }",
            {"i": {"applicationId": app["id"], "action": "ACCEPT"}},
            token=reader.token,
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    row = await session.get(Application, _pk(app["id"]))
    assert row is not None
    assert row.status == ApplicationStatus.SUBMITTED


# --- the queue --------------------------------------------------------------------------------


async def test_the_queue_oldest_due_first_with_filters(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    today = dt.date.today()
    # names fixed, not made up: a made-up "Смирнова" would match the name search below
    late = await make_application(
        session,
        school_id=world.school.id,
        status=ApplicationStatus.IN_REVIEW,
        due_on=today - dt.timedelta(days=3),
        child_last_name="Иванов",
    )
    soon = await make_application(
        session,
        school_id=world.school.id,
        status=ApplicationStatus.SUBMITTED,
        due_on=today + dt.timedelta(days=1),
        child_last_name="Петров",
    )
    later = await make_application(
        session,
        school_id=world.school.id,
        status=ApplicationStatus.ACCEPTED,
        due_on=today + dt.timedelta(days=5),
        child_last_name="Смирнов",
    )
    done = await make_application(
        session,
        school_id=world.school.id,
        status=ApplicationStatus.REJECTED,
        due_on=today - dt.timedelta(days=9),
        child_last_name="Сидоров",
    )
    await make_application(session, school_id=world.school.id)  # a draft: not the school's yet
    await make_application(session, status=ApplicationStatus.SUBMITTED)  # another school's
    await session.commit()
    numbers = {a.id: a.number for a in (late, soon, later, done)}

    async def queue(f: dict[str, object] | None = None, **kw: object) -> list[str]:
        data = await gql.data(QUEUE, {"f": f, **kw}, token=world.admin.token)
        return [numbers[_pk(e["node"]["id"])] or "" for e in data["applications"]["edges"]]

    assert await queue() == [numbers[done.id], numbers[late.id], numbers[soon.id], numbers[later.id]]
    assert await queue({"overdue": True}) == [numbers[late.id]]
    assert await queue({"overdue": False}) == [numbers[done.id], numbers[soon.id], numbers[later.id]]
    assert await queue({"status": "SUBMITTED"}) == [numbers[soon.id]]
    assert await queue({"query": "смирнов"}) == [numbers[later.id]]
    assert await queue({"query": (numbers[soon.id] or "").lower()}) == [numbers[soon.id]]
    # paged by key
    first = await gql.data(QUEUE, {"first": 2}, token=world.admin.token)
    assert first["applications"]["totalCount"] == 4
    assert first["applications"]["pageInfo"]["hasNextPage"] is True
    after = first["applications"]["pageInfo"]["endCursor"]
    assert await queue(first=2, after=after) == [numbers[soon.id], numbers[later.id]]
    overdue_flag = await gql.data(QUEUE, {"f": {"overdue": True}}, token=world.admin.token)
    assert overdue_flag["applications"]["edges"][0]["node"]["overdue"] is True


async def test_the_queue_is_refused_to_parents_and_teachers(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session, gql)
    teacher = await staff(session, gql, "teacher@school.example.ru", world.school, StaffRole.TEACHER)
    for refused in (world.parent, teacher):
        body = await gql.post(QUEUE, {}, token=refused.token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # operators see every school's queue
    await make_application(session, status=ApplicationStatus.SUBMITTED)
    await session.commit()
    operator = await person(session, gql, "operator@portal.example.ru", is_operator=True)
    assert (await gql.data(QUEUE, {}, token=operator.token))["applications"]["totalCount"] == 1


async def test_a_school_admin_is_not_their_own_reviewer(gql: GraphQLClient, session: AsyncSession) -> None:
    # given the school's admin applies for her own child at her school
    world = await make_world(session, gql)
    data = await with_place(session, world, form(world))
    draft = await create(gql, world.admin.token, data, [("BIRTH_CERTIFICATE", SCAN)])
    app = (await submit(gql, world.admin.token, draft["application"]["id"]))["application"]
    body = await gql.post(
        "mutation($i: ReviewApplicationInput!) { reviewApplication(input: $i) { userErrors { code } } }",
        {"i": {"applicationId": app["id"], "action": "ACCEPT"}},
        token=world.admin.token,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_queue_does_not_grow_its_statements_with_its_rows(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    world = await make_world(session, gql)
    query = """{ applications(first: 50) { edges { node {
        number className overdue availableActions school { id } applicant { id }
        history { action actor { id } } attachments { kind file { id } }
    } } } }"""

    async def add(count: int) -> None:
        for _ in range(count):
            app = await make_application(session, school_id=world.school.id, status=ApplicationStatus.SUBMITTED)
            await make_application_event(session, application_id=app.id)
            await make_application_attachment(session, application_id=app.id)
        await session.commit()

    await add(2)
    with sql_counter:
        assert len((await gql.data(query, token=world.admin.token))["applications"]["edges"]) == 2
    for_two = sql_counter.count
    await add(6)
    with sql_counter:
        assert len((await gql.data(query, token=world.admin.token))["applications"]["edges"]) == 8
    assert sql_counter.count == for_two
