"""Event types. An event is a small "something changed" signal, not the data:
subscribers re-read the database (the source of truth) when they hear one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ediary_gql.events import channels


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[str] = "event"

    @property
    def channel(self) -> str:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, **asdict(self)}, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class NotificationCreated(Event):
    kind: ClassVar[str] = "notification.created"
    user_id: int
    notification_id: int

    @property
    def channel(self) -> str:
        return channels.user_notifications(self.user_id)


@dataclass(frozen=True, slots=True)
class DeliveriesQueued(Event):
    """Deliveries are waiting to be sent: a wake-up call for the dispatchers."""

    kind: ClassVar[str] = "delivery.queued"

    @property
    def channel(self) -> str:
        return channels.deliveries()


@dataclass(frozen=True, slots=True)
class SessionRevoked(Event):
    kind: ClassVar[str] = "session.revoked"
    user_id: int
    session_id: int | None  # None: every session of the user

    @property
    def channel(self) -> str:
        return channels.user_sessions(self.user_id)


def parse(message: str) -> dict[str, Any]:
    """Decode a message; malformed ones come back as an empty dict and are skipped."""
    try:
        value = json.loads(message)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
