"""after_commit: work queued in a transaction runs once it has committed, in order, and
never when it rolls back; one that fails leaves the commit and the rest standing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ediary_gql.context import AppServices
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import after_commit, unit_of_work
from tests.factories import make_user


class Boom(Exception):
    pass


async def test_queued_work_runs_after_the_commit_in_order(app_services: AppServices) -> None:
    ran: list[str] = []
    seen_committed: list[bool] = []

    async def first() -> None:
        async with app_services.session_factory() as other:  # another session sees the row
            seen_committed.append(await other.scalar(select(User.id).where(User.id == user_id)) is not None)
        ran.append("first")

    async def broken() -> None:
        ran.append("broken")
        raise Boom

    async def last() -> None:
        ran.append("last")

    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        user_id = (await make_user(session)).id
        for action in (first, broken, last):
            after_commit(session, action)
        assert ran == []
    assert ran == ["first", "broken", "last"]
    assert seen_committed == [True]


async def test_nothing_runs_when_the_transaction_rolls_back(app_services: AppServices) -> None:
    ran: list[str] = []

    async def action() -> None:
        ran.append("ran")

    async def queue_then_fail() -> None:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            await make_user(session)
            after_commit(session, action)
            raise Boom

    with pytest.raises(Boom):
        await queue_then_fail()
    assert ran == []
