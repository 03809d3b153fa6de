"""What requestMyData writes out, and for whom: no verification codes (hidden from the
inbox as well), only a confirmed account asks for it, and of a thread the person left
only what was written before they left (their own messages all)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel
from ediary_gql.services.personal_data.export import ExportWorker
from ediary_gql.settings import Settings
from ediary_gql.storage import storage_for
from tests.diary_writes_support import make_world
from tests.factories import make_message, make_thread, make_thread_participant
from tests.registration_support import (
    CONFIRM_CONTACT,
    PASSWORD,
    SIGN_IN,
    latest_code,
    register,
    user_pk,
)
from tests.support import GraphQLClient

REQUEST_MY_DATA = """mutation { requestMyData { dataRequest { id status } userErrors { field code } } }"""
MY_REQUESTS = """{ myDataRequests(first: 10) { edges { node { id status downloadUrl } } } }"""


async def _export(
    gql: GraphQLClient, token: str, app_services: AppServices, settings: Settings, server: str
) -> zipfile.ZipFile:
    asked = await gql.data(REQUEST_MY_DATA, token=token)
    assert asked["requestMyData"]["userErrors"] == [], asked
    worker = ExportWorker(session_factory=app_services.session_factory, storage=storage_for(settings.upload_dir))
    assert await worker.drain() == 1
    (node,) = [e["node"] for e in (await gql.data(MY_REQUESTS, token=token))["myDataRequests"]["edges"]]
    assert node["status"] == "READY"
    async with httpx.AsyncClient(base_url=server) as http:
        got = await http.get(node["downloadUrl"], headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    return zipfile.ZipFile(io.BytesIO(got.content))


def _text(archive: zipfile.ZipFile) -> str:
    return "\n".join(archive.read(name).decode() for name in archive.namelist())


async def test_an_unconfirmed_account_cannot_ask_and_the_export_holds_no_codes(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, server: str
) -> None:
    registered = await register(gql)
    assert registered["user"]["status"] == "TEMPORARY"
    user_id = user_pk(registered["user"]["id"])
    temporary = registered["accessToken"]
    sms_code = await latest_code(app_services, user_id, Channel.SMS)
    email_code = await latest_code(app_services, user_id, Channel.EMAIL)
    # a TEMPORARY account (anyone who registered with someone's phone) gets no export
    refused = await gql.data(REQUEST_MY_DATA, token=temporary)
    assert refused["requestMyData"]["dataRequest"] is None
    assert [e["code"] for e in refused["requestMyData"]["userErrors"]] == ["ACCOUNT_NOT_CONFIRMED"]
    mine = await gql.data(MY_REQUESTS, token=temporary)
    assert mine["myDataRequests"]["edges"] == []

    await gql.data(CONFIRM_CONTACT, {"i": {"channel": "SMS", "code": sms_code}}, token=temporary)
    done = await gql.data(CONFIRM_CONTACT, {"i": {"channel": "EMAIL", "code": email_code}}, token=temporary)
    assert done["confirmContact"]["user"]["status"] == "CONFIRMED"
    signed = (await gql.data(SIGN_IN, {"i": {"login": registered["user"]["phone"], "password": PASSWORD}}))["signIn"]
    assert signed["userErrors"] == []

    archive = await _export(gql, signed["accessToken"], app_services, settings, server)
    text = _text(archive)
    assert sms_code not in text
    assert email_code not in text
    assert "VERIFICATION_CODE" not in text
    assert "Код подтверждения" not in text
    kinds = {n["kind"] for n in json.loads(archive.read("notifications.json"))}
    assert "VERIFICATION_CODE" not in kinds


async def test_of_a_thread_left_only_messages_until_leaving_and_ones_own(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings, server: str
) -> None:
    world = await make_world(session)
    now = dt.datetime.now(dt.UTC)
    left = await make_thread(session, school_id=world.school.id, created_by_id=world.teacher.id)
    stayed = await make_thread(session, school_id=world.school.id, created_by_id=world.teacher.id)
    await make_thread_participant(session, thread_id=left.id, user_id=world.teacher.id)
    await make_thread_participant(session, thread_id=stayed.id, user_id=world.teacher.id)
    await make_thread_participant(
        session, thread_id=left.id, user_id=world.parent.id, left_at=now - dt.timedelta(hours=1)
    )
    await make_thread_participant(session, thread_id=stayed.id, user_id=world.parent.id)
    before = await make_message(
        session, thread_id=left.id, author_id=world.teacher.id, body="до ухода", created_at=now - dt.timedelta(hours=2)
    )
    after = await make_message(
        session, thread_id=left.id, author_id=world.teacher.id, body="после ухода", created_at=now
    )
    own = await make_message(
        session, thread_id=left.id, author_id=world.parent.id, body="своё", created_at=now - dt.timedelta(hours=3)
    )
    current = await make_message(
        session, thread_id=stayed.id, author_id=world.teacher.id, body="в открытой", created_at=now
    )
    await session.commit()

    archive = await _export(gql, await world.token(gql, world.parent), app_services, settings, server)
    threads: list[dict[str, Any]] = json.loads(archive.read("messages.json"))
    by_thread = {t.get("id"): {m["id"] for m in t["messages"]} for t in threads}
    assert by_thread[left.id] == {before.id, own.id}
    assert after.id not in {m for ids in by_thread.values() for m in ids}
    assert by_thread[stayed.id] == {current.id}
