"""Attachment (schema/types/attachments.py) over SQL; its download address is the
server's, bound per request as `:attachment_url` (schema/sql/request.py)."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlObject
from ediary_gql.schema.sql.common import DATETIME, entity, gid


def attachment(a: str) -> SqlObject:
    return entity(
        "Attachment",
        a,
        {"fileName": "file_name", "contentType": "content_type", "sizeBytes": "size_bytes", "sha256": "sha256"},
        createdAt=DATETIME.format(f"{a}.created_at"),
        url=f"(CAST(:attachment_url AS text) || {gid('Attachment', f'{a}.id')})",
    )
