"""Attachment (schema/types/attachments.py) over SQL; its download address is the
server's and is completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlObject
from ediary_gql.schema.sql.common import DATETIME, entity


def attachment(a: str) -> SqlObject:
    return entity(
        "Attachment",
        a,
        {"fileName": "file_name", "contentType": "content_type", "sizeBytes": "size_bytes", "sha256": "sha256"},
        createdAt=DATETIME.format(f"{a}.created_at"),
    )
