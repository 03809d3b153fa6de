"""Personal data over the API: audited reads of a child's documents and the access log,
requestMyData (the ZIP, its download by the requester alone), requestErasure and
decideErasure (nothing of the person left in any table, the school's records kept)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import zipfile
from typing import Any

import httpx
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import Base
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.personal_data import SensitiveRead
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.services.personal_data.export import ExportWorker
from ediary_gql.settings import Settings
from ediary_gql.storage import storage_for
from tests.diary_writes_support import World, gid, make_world
from tests.factories import (
    make_attachment,
    make_attendance,
    make_enrollment,
    make_grade,
    make_message,
    make_notification,
    make_outbox_message,
    make_school_class,
    make_thread,
    make_thread_participant,
)
from tests.support import GraphQLClient, StatementCounter

CHILD_CARD = """query ChildCard($id: ID!) { child(id: $id) {
  snils again: snils birthCertificate { series number } } }"""
ACCESS_LOG = """query($id: ID!) { sensitiveDataAccessLog(childId: $id, first: 50) {
  edges { node { field operation address readAt readerId } } } }"""
REQUEST_MY_DATA = """mutation { requestMyData { dataRequest { id kind status } userErrors { field code } } }"""
MY_REQUESTS = """{ myDataRequests(first: 10) { edges { node { id kind status downloadUrl } } } }"""
REQUEST_ERASURE = """mutation($i: RequestErasureInput!) { requestErasure(input: $i) {
  dataRequest { id status } userErrors { field code message } } }"""
DECIDE_ERASURE = """mutation($i: DecideErasureInput!) { decideErasure(input: $i) {
  dataRequest { id status holds } userErrors { field code message } } }"""
ERASURE_QUEUE = """{ erasureRequests(first: 10) { edges { node { id status } } } }"""


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def _reads(session: AsyncSession, child_id: int) -> list[SensitiveRead]:
    await session.rollback()
    return list((await session.scalars(select(SensitiveRead).where(SensitiveRead.child_id == child_id))).all())


async def _school_of(session: AsyncSession, user_id: int) -> int:
    school_id = await session.scalar(select(StaffMembership.school_id).where(StaffMembership.user_id == user_id))
    assert school_id is not None
    return school_id


async def _exists(session: AsyncSession, model: Any, pk: int) -> bool:
    await session.rollback()
    return await session.scalar(select(model.id).where(model.id == pk)) is not None


# --- audited reads ---------------------------------------------------------------------


async def test_reads_of_documents_are_recorded_once_per_request(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session)
    parent = await world.token(gql, world.parent)
    card = await gql.data(CHILD_CARD, {"id": gid("Child", world.child.id)}, token=parent)
    assert card["child"]["snils"] == world.child.snils
    reads = await _reads(session, world.child.id)
    # SNILS twice (an alias) and the certificate: one row per field, of this request
    assert sorted(r.field for r in reads) == ["Child.birthCertificate", "Child.snils"]
    assert {(r.reader_id, r.operation, r.address) for r in reads} == {(world.parent.id, "ChildCard", "127.0.0.1")}
    # a teacher reads the card but not the documents: nothing is recorded
    teacher = await world.token(gql, world.teacher)
    seen = await gql.data(CHILD_CARD, {"id": gid("Child", world.child.id)}, token=teacher)
    assert seen["child"]["snils"] is None
    assert seen["child"]["birthCertificate"] is None
    assert len(await _reads(session, world.child.id)) == 2


async def test_the_access_log_is_for_guardians_and_the_schools_admins(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    world = await make_world(session)
    admin = await world.token(gql, world.admin)
    await gql.data(CHILD_CARD, {"id": gid("Child", world.child.id)}, token=admin)
    for user in (world.parent, world.admin):
        log = await gql.data(ACCESS_LOG, {"id": gid("Child", world.child.id)}, token=await world.token(gql, user))
        rows = [e["node"] for e in log["sensitiveDataAccessLog"]["edges"]]
        assert {r["field"] for r in rows} == {"Child.snils", "Child.birthCertificate"}
        assert {r["readerId"] for r in rows} == {gid("User", world.admin.id)}
    # the other school is one the child has left: its admins no longer see the log
    former_class = await make_school_class(session, school_id=await _school_of(session, world.foreign_admin.id))
    await make_enrollment(
        session,
        child_id=world.child.id,
        class_id=former_class.id,
        starts_on=dt.date(2019, 9, 1),
        ends_on=dt.date(2020, 5, 31),
    )
    await session.commit()
    refused = (world.teacher, world.operator, world.other_parent, world.foreign_admin, world.foreign_teacher)
    for user in refused:
        body = await gql.post(ACCESS_LOG, {"id": gid("Child", world.child.id)}, token=await world.token(gql, user))
        assert _codes(body) == ["FORBIDDEN"], (user.id, body)
        assert body["data"] is None
    anonymous = await gql.post(ACCESS_LOG, {"id": gid("Child", world.child.id)})
    assert _codes(anonymous) == ["UNAUTHENTICATED"]


# --- export -----------------------------------------------------------------------------


async def test_a_guardian_downloads_their_export_with_the_childs_grades_and_access_log(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings, server: str
) -> None:
    world = await make_world(session)
    grade = await make_grade(session, child_id=world.child.id, value="5")
    await session.commit()
    parent = await world.token(gql, world.parent)
    await gql.data(CHILD_CARD, {"id": gid("Child", world.child.id)}, token=await world.token(gql, world.admin))
    asked = await gql.data(REQUEST_MY_DATA, token=parent)
    assert asked["requestMyData"]["dataRequest"]["status"] == "QUEUED"
    again = await gql.data(REQUEST_MY_DATA, token=parent)
    assert [e["code"] for e in again["requestMyData"]["userErrors"]] == ["RATE_LIMITED"]
    worker = ExportWorker(session_factory=app_services.session_factory, storage=storage_for(settings.upload_dir))
    assert await worker.drain() == 1
    mine = await gql.data(MY_REQUESTS, token=parent)
    (node,) = [e["node"] for e in mine["myDataRequests"]["edges"]]
    assert node["status"] == "READY"
    assert node["downloadUrl"]
    async with httpx.AsyncClient(base_url=server) as http:
        got = await http.get(node["downloadUrl"], headers={"Authorization": f"Bearer {parent}"})
        assert got.status_code == 200, got.text
        for user in (world.operator, world.other_parent, world.admin):
            other = await world.token(gql, user)
            refused = await http.get(node["downloadUrl"], headers={"Authorization": f"Bearer {other}"})
            assert refused.status_code == 404
        assert (await http.get(node["downloadUrl"])).status_code == 401
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = set(archive.namelist())
    assert {"profile.json", "applications.json", "notifications.json", "sessions.json", "messages.json"} <= names
    assert "consents.json" in names
    profile = json.loads(archive.read("profile.json"))
    assert profile["email"] == world.parent.email
    assert "password_hash" not in profile
    child = json.loads(archive.read(f"children/{world.child.id}.json"))
    assert [g["id"] for g in child["grades"]] == [grade.id]
    assert child["child"]["snils"] == world.child.snils
    # the access log: the admin's reads, then the export's own
    readers = {(r["reader_id"], r["operation"]) for r in child["sensitive_reads"]}
    assert (world.admin.id, "ChildCard") in readers
    assert (world.parent.id, "requestMyData") in {
        (r.reader_id, r.operation) for r in await _reads(session, world.child.id)
    }
    # the notice
    inbox = await gql.data("{ notifications(first: 10) { edges { node { kind } } } }", token=parent)
    assert "PERSONAL_DATA" in [e["node"]["kind"] for e in inbox["notifications"]["edges"]]
    # an integration-less check: no one else lists it
    theirs = await gql.data(MY_REQUESTS, token=await world.token(gql, world.other_parent))
    assert theirs["myDataRequests"]["edges"] == []
    assert _codes(await gql.post(REQUEST_MY_DATA)) == ["UNAUTHENTICATED"]


# --- erasure ------------------------------------------------------------------------------


async def _texts(session: AsyncSession) -> list[tuple[str, str, str]]:
    """Every text and JSON value of every table, as (table, column, text)."""
    await session.rollback()
    found: list[tuple[str, str, str]] = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in (await session.execute(select(*columns))).all():
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if isinstance(value, str) and value.startswith(("{", "[")):
                    with contextlib.suppress(ValueError):
                        text = json.dumps(json.loads(value), ensure_ascii=False)
                found.append((table.name, column.name, text))
    return found


async def _personal_world(session: AsyncSession) -> World:
    world = await make_world(session)
    thread = await make_thread(session, school_id=world.school.id, created_by_id=world.parent.id)
    await make_thread_participant(session, thread_id=thread.id, user_id=world.parent.id)
    await make_thread_participant(session, thread_id=thread.id, user_id=world.teacher.id)
    await make_message(session, thread_id=thread.id, author_id=world.parent.id, body="Здравствуйте")
    await make_message(session, thread_id=thread.id, author_id=world.teacher.id, body="Добрый день")
    await make_attachment(session, owner_id=world.parent.id)
    parent_name = f"{world.parent.last_name} {world.parent.first_name}"
    await make_notification(session, user_id=world.teacher.id, title="Новое сообщение", body=f"Пишет {parent_name}")
    await make_outbox_message(session, address=world.parent.email, body="Код 123456")
    lesson = await world.lesson(session)
    await make_grade(session, child_id=world.child.id, lesson_id=lesson.id, value="4")
    await make_attendance(session, child_id=world.child.id, lesson_id=lesson.id)
    await session.commit()
    return world


async def test_an_erasure_leaves_nothing_of_the_person_and_keeps_the_schools_records(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    world = await _personal_world(session)
    parent, child = world.parent, world.child
    parent_id, child_id = parent.id, child.id
    operator = await world.token(gql, world.operator)
    needles = [
        f"{parent.last_name} {parent.first_name}",
        parent.email or "",
        parent.phone or "",
        f"{child.last_name} {child.first_name}",
        child.snils or "",
    ]
    assert all(needles)
    before = [t for t in await _texts(session) if any(n in t[2] for n in needles)]
    assert before  # the person is there to begin with
    token = await world.token(gql, parent)
    asked = await gql.data(REQUEST_ERASURE, {"i": {"reason": "Переезжаем", "includeChildren": True}}, token=token)
    request_id = asked["requestErasure"]["dataRequest"]["id"]
    assert asked["requestErasure"]["dataRequest"]["status"] == "SUBMITTED"
    queue = await gql.data(ERASURE_QUEUE, token=operator)
    assert [e["node"]["id"] for e in queue["erasureRequests"]["edges"]] == [request_id]
    decision = {"requestId": request_id, "decision": "APPROVE", "holds": ""}
    # only operators decide
    for user in (world.parent, world.admin, world.teacher):
        body = await gql.post(DECIDE_ERASURE, {"i": decision}, token=await world.token(gql, user))
        assert _codes(body) == ["FORBIDDEN"], body
        assert _codes(await gql.post(ERASURE_QUEUE, token=await world.token(gql, user))) == ["FORBIDDEN"]
    # the holds must be stated; nothing is done meanwhile
    empty = await gql.data(DECIDE_ERASURE, {"i": decision}, token=operator)
    assert [(e["field"], e["code"]) for e in empty["decideErasure"]["userErrors"]] == [(["holds"], "REQUIRED")]
    assert await _exists(session, User, parent_id)
    holds = "Оценки и посещаемость хранятся школой обезличенными (приказ Минпросвещения)"
    done = await gql.data(DECIDE_ERASURE, {"i": {**decision, "holds": holds}}, token=operator)
    assert done["decideErasure"]["userErrors"] == []
    assert done["decideErasure"]["dataRequest"]["status"] == "DONE"
    # no contact or name of the person (nor of the child) in any table
    left = [t for t in await _texts(session) if any(n in t[2] for n in needles)]
    assert left == []
    # the school's records stay, the child anonymised
    assert await session.scalar(select(func.count()).select_from(Grade).where(Grade.child_id == child_id)) == 1
    assert await session.scalar(select(func.count()).select_from(Attendance).where(Attendance.child_id == child_id))
    kept = (
        await session.execute(select(Child.snils, Child.user_id, Child.last_name).where(Child.id == child_id))
    ).one()
    assert tuple(kept) == (None, None, "Обезличено")
    assert not await _exists(session, User, parent_id)
    # the outcome is audited, without names
    entries = await gql.data(
        '{ auditLog(first: 20, filter: {action: "decideErasure"}) { edges { node { action after } } } }',
        token=operator,
    )
    (entry,) = [e["node"] for e in entries["auditLog"]["edges"]]
    assert entry["after"]["status"] == "DONE"
    assert entry["after"]["outcome"]["users"] == 1


async def test_erasure_refusals(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session)
    # staff keep school records: refused with the hold stated
    teacher = await gql.data(REQUEST_ERASURE, {"i": {}}, token=await world.token(gql, world.teacher))
    assert [e["code"] for e in teacher["requestErasure"]["userErrors"]] == ["INVALID"]
    assert _codes(await gql.post(REQUEST_ERASURE, {"i": {}})) == ["UNAUTHENTICATED"]
    parent = await world.token(gql, world.parent)
    first = await gql.data(REQUEST_ERASURE, {"i": {}}, token=parent)
    request_id = first["requestErasure"]["dataRequest"]["id"]
    twice = await gql.data(REQUEST_ERASURE, {"i": {}}, token=parent)
    assert [e["code"] for e in twice["requestErasure"]["userErrors"]] == ["CONFLICT"]
    operator = await world.token(gql, world.operator)
    rejected = await gql.data(
        DECIDE_ERASURE, {"i": {"requestId": request_id, "decision": "REJECT", "holds": "Идёт проверка"}}, token=operator
    )
    assert rejected["decideErasure"]["dataRequest"]["status"] == "REJECTED"
    assert await _exists(session, User, world.parent.id)
    # a request of another kind's ID is refused on its path
    wrong = await gql.data(
        DECIDE_ERASURE, {"i": {"requestId": gid("Child", 1), "decision": "APPROVE", "holds": "x"}}, token=operator
    )
    assert [e["code"] for e in wrong["decideErasure"]["userErrors"]] == ["INVALID"]
    # a decided request is not decided again
    again = await gql.data(
        DECIDE_ERASURE, {"i": {"requestId": request_id, "decision": "APPROVE", "holds": "x"}}, token=operator
    )
    assert [e["code"] for e in again["decideErasure"]["userErrors"]] == ["CONFLICT"]
    # another person does not see the request
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": request_id}, token=await world.token(gql, world.other_parent)
    )
    assert node["node"] is None


async def test_the_reads_of_a_request_are_one_insert(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    world = await make_world(session)
    admin = await world.token(gql, world.admin)
    both = """query Class($a: ID!, $b: ID!) {
      a: child(id: $a) { snils birthCertificate { number } } b: child(id: $b) { snils birthCertificate { number } } }"""
    ids = {"a": gid("Child", world.child.id), "b": gid("Child", world.other_child.id)}
    with sql_counter:
        await gql.data(both, ids, token=admin)
    inserts = [s for s in sql_counter.statements if s.lstrip().upper().startswith("INSERT INTO SENSITIVE_READS")]
    assert len(inserts) == 1
    assert len(await _reads(session, world.child.id)) == len(await _reads(session, world.other_child.id)) == 2


async def test_an_export_is_seen_by_its_requester_alone(gql: GraphQLClient, session: AsyncSession) -> None:
    world = await make_world(session)
    asked = await gql.data(REQUEST_MY_DATA, token=await world.token(gql, world.parent))
    request_id = asked["requestMyData"]["dataRequest"]["id"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql.data(node, {"id": request_id}, token=await world.token(gql, world.parent)))["node"]
    for user in (world.operator, world.admin, world.other_parent):
        seen = await gql.data(node, {"id": request_id}, token=await world.token(gql, user))
        assert seen["node"] is None
