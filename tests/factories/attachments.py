"""Uploaded files."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.attachments import Attachment
from tests.factories._base import persist, seq, take_parents
from tests.factories.users import make_user


async def make_attachment(session: AsyncSession, **overrides: Any) -> Attachment:
    o = take_parents(overrides)
    if "owner_id" not in o:
        o["owner_id"] = (await make_user(session)).id
    n = seq()
    fields: dict[str, Any] = {
        "file_name": f"скан_{n}.pdf",
        "content_type": "application/pdf",
        "size_bytes": 48_213 + n,
        "sha256": hashlib.sha256(f"attachment-{n}".encode()).hexdigest(),
        "storage_key": f"attachments/{n:08d}.pdf",
    }
    fields.update(o)
    return await persist(session, Attachment(**fields))
