"""The event log: every domain event, appended in the transaction of its change.

`id` is the order of appending, which is not commit order (two transactions take ids
7 and 8 and commit 8 first); `position` is given after commit by the relay
(events/log.py), in the order it finds committed rows, so positions are commit-ordered.

Range-partitioned by `created_at` on PostgreSQL, a partition a day (db/partitioning.py,
docs/scaling.md "Partitioning"): the retention drops whole old days. PostgreSQL wants
the partition key in every unique index, so `position` is unique with `created_at`;
positions stay unique alone, as the relay gives them under the head's lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, CreatedAtMixin, IntPk

_UNPLACED = text("position IS NULL")


class EventRecord(CreatedAtMixin, Base):
    __tablename__ = "event_log"

    id: Mapped[IntPk]
    # Null until the relay has placed the committed row; then unique and increasing.
    position: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        # The relay's work list: committed rows not placed yet, in append order.
        Index(
            "ix_event_log_unplaced",
            "id",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        Index("ix_event_log_channel_position", "channel", "position"),
        # the readers' order (`position > after`), each day's partition probed by its own index
        UniqueConstraint("position", "created_at"),
        partitioning.partitioned_by_day("created_at"),
    )


partitioning.register(EventRecord.__table__)


class EventLogHead(Base):
    """One row: the last position given. The relay locks it, so one relay places at a time."""

    __tablename__ = "event_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_position: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
