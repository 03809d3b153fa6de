"""Attachments: downloading a stored file over real HTTP, and who may see it."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.attachments import Attachment
from tests.factories import make_attachment, make_operator, make_school, make_school_admin, make_user
from tests.graphql.test_request_staff_binding import payload, request_binding
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { id fileName contentType sizeBytes sha256 url } } }"


async def _uploaded(gql: GraphQLClient, session: AsyncSession) -> tuple[str, int]:
    """Olga asks to teach at a school (whose admin is admin@) with a PDF; returns her token
    and the attachment id. Also makes an operator, another school's admin and a stranger."""
    school = await make_school(session)
    await make_school_admin(session, school=school, email="admin@example.ru", password=PASSWORD)
    await make_school_admin(session, email="other-admin@example.ru", password=PASSWORD)
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await make_user(session, email="stranger@example.ru", password=PASSWORD)
    await make_user(session, email="olga@example.ru", password=PASSWORD)
    await session.commit()
    token = await gql.sign_in("olga@example.ru", PASSWORD)
    result = payload(await request_binding(gql, token, school.inn, file=("Приказ №5.pdf", tiny_pdf(), "text/plain")))
    assert result["userErrors"] == []
    attachment_id = int((await session.scalars(select(Attachment.id))).one())
    return token, attachment_id


async def test_the_owner_downloads_the_file_as_uploaded(gql: GraphQLClient, session: AsyncSession) -> None:
    token, attachment_id = await _uploaded(gql, session)
    # the url of the Attachment is where to GET it
    node = (await gql.data(NODE, {"id": to_base64("Attachment", attachment_id)}, token=token))["node"]
    assert node["contentType"] == "application/pdf"  # from the content, not the claimed text/plain
    assert node["sha256"] == hashlib.sha256(tiny_pdf()).hexdigest()
    response = await gql.http.get(node["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.content == tiny_pdf()
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(tiny_pdf()))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    # the plain number works too
    by_number = await gql.http.get(f"/files/{attachment_id}", headers={"Authorization": f"Bearer {token}"})
    assert by_number.content == tiny_pdf()


async def test_reviewers_of_the_binding_may_download_its_document(gql: GraphQLClient, session: AsyncSession) -> None:
    _, attachment_id = await _uploaded(gql, session)
    for email in ("admin@example.ru", "operator@example.ru"):
        token = await gql.sign_in(email, PASSWORD)
        response = await gql.http.get(f"/files/{attachment_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, email
        assert response.content == tiny_pdf()


async def test_others_get_404_as_for_a_missing_file(gql: GraphQLClient, session: AsyncSession) -> None:
    _, attachment_id = await _uploaded(gql, session)
    for email in ("stranger@example.ru", "other-admin@example.ru"):
        token = await gql.sign_in(email, PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        theirs = await gql.http.get(f"/files/{to_base64('Attachment', attachment_id)}", headers=headers)
        missing = await gql.http.get(f"/files/{attachment_id + 1000}", headers=headers)
        for response in (theirs, missing):
            assert response.status_code == 404, email
            assert response.json() == {"error": "NOT_FOUND", "message": "Файл не найден"}
        node = await gql.data(NODE, {"id": to_base64("Attachment", attachment_id)}, token=token)
        assert node["node"] is None
    # ids of another type or of no form at all are missing files too
    token = await gql.sign_in("olga@example.ru", PASSWORD)
    for raw in (to_base64("User", attachment_id), "..%2F..%2Fetc%2Fpasswd", "не-id"):
        response = await gql.http.get(f"/files/{raw}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, raw


async def test_downloads_need_a_valid_token(gql: GraphQLClient, session: AsyncSession) -> None:
    _, attachment_id = await _uploaded(gql, session)
    anonymous = await gql.http.get(f"/files/{attachment_id}")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"] == "UNAUTHENTICATED"
    forged = await gql.http.get(f"/files/{attachment_id}", headers={"Authorization": "Bearer not-a-jwt"})
    assert forged.status_code == 401
    assert forged.json()["error"] == "TOKEN_INVALID"


async def test_a_row_whose_bytes_are_gone_is_404(gql: GraphQLClient, session: AsyncSession) -> None:
    owner = await make_user(session, email="anna@example.ru", password=PASSWORD)
    row = await make_attachment(session, owner_id=owner.id, storage_key="ab/cd/" + "0" * 32)
    await session.commit()
    token = await gql.sign_in("anna@example.ru", PASSWORD)
    response = await gql.http.get(f"/files/{row.id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
