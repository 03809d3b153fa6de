"""No two types share a global ID: over the demo school's data, every `id` in a response
decodes to the `__typename` of the object that carried it (the diary's DiaryTeacher included,
on the compiled fast path and the plain one), and node(id:) answers DiaryTeacher IDs through
the policy."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, NameNode, SelectionSetNode, parse, print_ast
from graphql.language import Visitor, visit
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64

from ediary_gql.context import AppServices
from ediary_gql.demo import DEMO_PASSWORD, seed_demo
from ediary_gql.demo.school_calendar import DEMO_FROM
from tests.factories.users import make_user
from tests.support import GraphQLClient

DIARY = """query($child: ID!, $from: Date!, $to: Date!) {
  diary(childId: $child, from: $from, to: $to) {
    date
    lessons {
      lesson { id topic schoolClass { id name } teacher { id fullName } }
      subject { id name }
      teacher { id fullName lastName }
      homework { isDone homework { id text } }
      grades { id value child { id } }
      attendance { id status }
    }
  }
}"""

READS = [
    ("parent", "{ me { id } myChildren { id currentClass { id name } } }"),
    ("parent", "{ notifications(first: 20) { edges { node { id } } } }"),
    ("parent", "{ threads(first: 20) { nodes { id messages(first: 20) { nodes { id author { id } } } } } }"),
    ("parent", "{ announcements(first: 20) { nodes { id } } }"),
    ("parent", "{ myApplications(first: 20) { nodes { id } } }"),
    ("admin", "{ applications(first: 20) { nodes { id school { id } } } }"),
    ("operator", "{ schools(first: 20) { nodes { id settlement { id } } } }"),
]


class _AddTypename(Visitor):
    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode:
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def with_typenames(query: str) -> str:
    return print_ast(visit(parse(query), _AddTypename()))


def ids_by_type(data: Any, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(__typename, the type its id decodes to) for every object with an id."""
    if isinstance(data, dict):
        if "id" in data and "__typename" in data:
            found.append((data["__typename"], from_base64(data["id"])[0]))
        for value in data.values():
            ids_by_type(value, found)
    elif isinstance(data, list):
        for value in data:
            ids_by_type(value, found)
    return found


@pytest.fixture
async def demo(app_services: AppServices) -> None:
    await seed_demo(app_services.session_factory)


async def _diary(gql: GraphQLClient, token: str, query: str = DIARY) -> dict[str, Any]:
    child = (await gql.data("{ myChildren { id } }", token=token))["myChildren"][0]["id"]
    week = {"child": child, "from": DEMO_FROM.isoformat(), "to": DEMO_FROM.replace(day=13).isoformat()}
    return await gql.data(query, week, token=token)


async def test_every_id_decodes_to_the_type_that_carries_it(gql: GraphQLClient, demo: None) -> None:
    tokens = {
        role: await gql.sign_in(f"{role}@demo.ediary.ru", DEMO_PASSWORD) for role in ("parent", "admin", "operator")
    }
    found: list[tuple[str, str]] = []
    # the diary as written (its compiled fast path) and with __typename everywhere (the plain one)
    plain = await _diary(gql, tokens["parent"], with_typenames(DIARY))
    ids_by_type(plain, found)
    fast = await _diary(gql, tokens["parent"])
    assert [lesson["teacher"]["id"] for d in fast["diary"] for lesson in d["lessons"]] == [
        lesson["teacher"]["id"] for d in plain["diary"] for lesson in d["lessons"]
    ]
    for role, query in READS:
        ids_by_type(await gql.data(with_typenames(query), token=tokens[role]), found)
    assert {"DiaryTeacher", "User", "Lesson", "Grade", "Child"} <= {t for t, _ in found}
    assert [(t, d) for t, d in found if t != d] == []


async def test_a_diary_teacher_id_is_a_node_for_those_who_may_see_the_diary(
    gql: GraphQLClient, demo: None, session: AsyncSession
) -> None:
    parent = await gql.sign_in("parent@demo.ediary.ru", DEMO_PASSWORD)
    lessons = [lesson for d in (await _diary(gql, parent))["diary"] for lesson in d["lessons"]]
    teacher = lessons[0]["teacher"]
    node = "query($id: ID!) { node(id: $id) { __typename id ... on DiaryTeacher { fullName } } }"
    seen = await gql.data(node, {"id": teacher["id"]}, token=parent)
    assert seen["node"] == {"__typename": "DiaryTeacher", "id": teacher["id"], "fullName": teacher["fullName"]}
    # the same teacher is no DiaryTeacher to someone of no school, nor to no one
    await make_user(session, email="stranger@example.ru", password="correct horse battery")
    await session.commit()
    stranger = await gql.sign_in("stranger@example.ru", "correct horse battery")
    assert (await gql.data(node, {"id": teacher["id"]}, token=stranger))["node"] is None
    assert (await gql.post(node, {"id": teacher["id"]}))["data"]["node"] is None
