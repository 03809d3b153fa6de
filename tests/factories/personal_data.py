"""Sensitive reads and data requests (exports, erasures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.personal_data import DataRequest, DataRequestKind, DataRequestStatus, SensitiveRead
from tests.factories._base import fake, now, persist, seq, take_parents
from tests.factories.children import make_child
from tests.factories.users import make_operator, make_user

EXPORT_STATUSES = frozenset(
    {
        DataRequestStatus.QUEUED,
        DataRequestStatus.RUNNING,
        DataRequestStatus.READY,
        DataRequestStatus.FAILED,
        DataRequestStatus.EXPIRED,
    }
)


async def make_sensitive_read(session: AsyncSession, **overrides: Any) -> SensitiveRead:
    """A user's read of a child's SNILS through the API."""
    o = take_parents(overrides)
    if "reader_id" not in o:
        o["reader_id"] = (await make_user(session)).id
    if "child_id" not in o:
        o["child_id"] = (await make_child(session)).id
    fields: dict[str, Any] = {
        "field": "Child.snils",
        "operation": "ChildCard",
        "address": fake.ipv4(),
        "read_at": now(),
    }
    fields.update(o)
    return await persist(session, SensitiveRead(**fields))


async def make_data_request(session: AsyncSession, **overrides: Any) -> DataRequest:
    """A user's queued export of their data; `kind=ERASURE` for a submitted erasure
    (the status fits the kind unless given; DONE and REJECTED ones have a decider)."""
    o = take_parents(overrides)
    kind = DataRequestKind(o.pop("kind", DataRequestKind.EXPORT))
    if "requester_id" not in o:
        o["requester_id"] = (await make_user(session)).id
    status = DataRequestStatus(
        o.get("status", DataRequestStatus.QUEUED if kind is DataRequestKind.EXPORT else DataRequestStatus.SUBMITTED)
    )
    fields: dict[str, Any] = {
        "kind": kind,
        "subject_user_id": o["requester_id"],
        "status": status,
        "include_children": kind is DataRequestKind.EXPORT,
        "attempts": 0,
    }
    if status is DataRequestStatus.READY:
        fields.update(
            storage_key=f"exports/{seq():08d}.zip",
            byte_size=1024,
            finished_at=now(),
            expires_at=now() + dt.timedelta(days=7),
        )
    if status in (DataRequestStatus.FAILED, DataRequestStatus.EXPIRED):
        fields["finished_at"] = now()
    if status in (DataRequestStatus.APPROVED, DataRequestStatus.REJECTED, DataRequestStatus.DONE):
        if "decided_by_id" not in o:
            fields["decided_by_id"] = (await make_operator(session)).id
        fields.update(decided_at=now(), holds="Оценки и посещаемость хранятся школой обезличенными")
    fields.update(o)
    return await persist(session, DataRequest(**fields))
