"""Homework (schema/types/homework.py) over SQL, with its attachments; its completion
counts are for the class's teachers only and are completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.attachment import attachment
from ediary_gql.schema.sql.common import entity
from ediary_gql.schema.sql.lesson import lesson_by_id


def homework(a: str) -> SqlObject:
    link, file = f"{a}_ha", f"{a}_at"
    return entity(
        "Homework",
        a,
        {"text": "text", "publishedOn": "published_on", "dueOn": "due_on", "expectedMinutes": "expected_minutes"},
        lesson=lesson_by_id(f"{a}.lesson_id", f"{a}_l"),
        attachments=SqlNested(
            f"(SELECT coalesce(json_agg({{object}} ORDER BY {link}.id), '[]') FROM homework_attachments {link} "
            f"JOIN attachments {file} ON {file}.id = {link}.attachment_id WHERE {link}.homework_id = {a}.id)",
            attachment(file),
        ),
    )
