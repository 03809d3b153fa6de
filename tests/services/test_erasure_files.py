"""An erasure's files leave storage only once its transaction has committed: a failed
one keeps both the rows and the bytes, a successful one removes both."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ediary_gql.context import AppServices
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.personal_data import DataRequest, DataRequestKind, DataRequestStatus
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import before_commit, unit_of_work
from ediary_gql.services.personal_data.erasure import ErasureDecision, decide_erasure
from ediary_gql.services.sessions import load_actor
from ediary_gql.settings import Settings
from ediary_gql.storage import LocalStorage, local_storage
from tests.diary_writes_support import gid
from tests.factories import make_attachment, make_data_request, make_operator, make_user
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient

PASSWORD = "Sup3r-Secret-Passw0rd!"
DECIDE_ERASURE = """mutation($i: DecideErasureInput!) { decideErasure(input: $i) {
  dataRequest { id status } userErrors { field code message } } }"""
HOLDS = "Оценки и посещаемость хранятся школой обезличенными"


class Boom(Exception):
    pass


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1, /) -> bytes:
        n = len(self.data) if size < 0 else size
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


async def _person_with_a_file(app_services: AppServices, storage: LocalStorage) -> tuple[int, int, int, str, str]:
    """(operator id, request id, attachment id, storage key, operator email): a parent
    who asked for erasure, owning one stored file."""
    key = await storage.save(_Bytes(tiny_pdf()))
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        parent = await make_user(session)
        operator = await make_operator(session, password=PASSWORD)
        attachment = await make_attachment(session, owner_id=parent.id, storage_key=key)
        request = await make_data_request(session, kind=DataRequestKind.ERASURE, requester_id=parent.id)
    assert storage.exists(key)
    return operator.id, request.id, attachment.id, key, operator.email or ""


async def test_a_failed_erasure_keeps_the_files_and_the_rows(app_services: AppServices, settings: Settings) -> None:
    storage = local_storage(settings.upload_dir)
    operator_id, request_id, attachment_id, key, _ = await _person_with_a_file(app_services, storage)

    async def fail() -> None:
        raise Boom

    async def erase_then_fail() -> None:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            actor = await load_actor(
                session, user_id=operator_id, session_id=None, status=UserStatus.CONFIRMED, is_operator=True
            )
            await decide_erasure(
                session,
                actor=actor,
                request_id=request_id,
                decision=ErasureDecision.APPROVE,
                holds=HOLDS,
                comment=None,
                storage=storage,
            )
            # the commit fails after the erasure (and its file step) has run
            before_commit(session, "fail", fail)

    with pytest.raises(Boom):
        await erase_then_fail()
    assert storage.exists(key)
    async with app_services.session_factory() as session:
        assert await session.get(Attachment, attachment_id) is not None
        request = await session.get(DataRequest, request_id)
        assert request is not None
        assert request.status is DataRequestStatus.SUBMITTED
        assert await session.scalar(select(User.id).where(User.id == request.requester_id)) is not None


async def test_a_committed_erasure_removes_the_files(
    gql: GraphQLClient, app_services: AppServices, settings: Settings
) -> None:
    storage = local_storage(settings.upload_dir)
    _, request_id, attachment_id, key, email = await _person_with_a_file(app_services, storage)
    token = await gql.sign_in(email, PASSWORD)
    done = await gql.data(
        DECIDE_ERASURE,
        {"i": {"requestId": gid("DataRequest", request_id), "decision": "APPROVE", "holds": HOLDS}},
        token=token,
    )
    assert done["decideErasure"]["userErrors"] == []
    assert done["decideErasure"]["dataRequest"]["status"] == "DONE"
    assert not storage.exists(key)
    async with app_services.session_factory() as session:
        assert await session.get(Attachment, attachment_id) is None
