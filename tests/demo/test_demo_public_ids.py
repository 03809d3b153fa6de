"""The demo's inbox (written in bulk, not through notify) names rows by global ID too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ediary_gql.db.models.notifications import Notification
from tests.demo.test_seed import Db, db  # noqa: F401 - the seeded databases, both backends
from tests.public_ids_support import leaks


@pytest.mark.asyncio
async def test_demo_notifications_name_rows_by_global_id(db: Db) -> None:  # noqa: F811
    async with db.factory() as session:
        payloads = list(await session.scalars(select(Notification.payload)))
    assert payloads
    assert [p for payload in payloads for p in leaks(payload)] == []
    # (the demo's inbox names its children, grades and homework)
    keys = {key for payload in payloads for key in payload}
    assert {"childId", "childIds", "gradeId", "homeworkId"} <= keys
