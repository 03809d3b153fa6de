"""The change feed across a confirmed child transfer: the old school's enrolment ended,
and the new school's records of the child, merged into the one kept, are each told as
updated, at their own school."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Enrollment
from tests.application_support import form, make_world, with_place
from tests.changes_support import changes, kinds
from tests.diary_writes_support import gid
from tests.graphql.test_child_transfers import CONFIRM, TRANSFERS, _approved, _school_a
from tests.support import GraphQLClient


async def test_a_confirmed_transfer_tells_both_schools_feeds(gql: GraphQLClient, session: AsyncSession) -> None:
    # given A's child, enrolled at B by an approved application, and both admins at their feeds' end
    a = await _school_a(session, gql)
    b = await make_world(session, gql)
    b_class_id = b.school_class.id
    await _approved(session, gql, b.parent.token, b.admin.token, await with_place(session, b, form(b)))
    at_a, at_b = [(await changes(gql, token))["cursor"] for token in (a.admin.token, b.admin.token)]
    [transfer] = (await gql.data(TRANSFERS, {}, token=a.guardian.token))["childTransfers"]["edges"]
    # when the guardian confirms the transfer
    data = await gql.data(CONFIRM, {"i": {"transferId": transfer["node"]["id"]}}, token=a.guardian.token)
    assert data["confirmChildTransfer"]["userErrors"] == []
    # then A hears its enrolment ended, and B that its enrolment now names the kept record
    session.expire_all()
    rows = (await session.scalars(select(Enrollment).where(Enrollment.child_id == a.child_id))).all()
    ended = next(e.id for e in rows if e.class_id == a.class_id)
    moved = next(e.id for e in rows if e.class_id == b_class_id)
    assert kinds(await changes(gql, a.admin.token, after=at_a)) == [("ENROLLMENT", "UPDATED", gid("Enrollment", ended))]
    assert kinds(await changes(gql, b.admin.token, after=at_b)) == [("ENROLLMENT", "UPDATED", gid("Enrollment", moved))]
