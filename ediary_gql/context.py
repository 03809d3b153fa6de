"""The typed per-request context shared by every resolver."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from ediary_gql.auth.actor import Actor
from ediary_gql.db.reads import Reads
from ediary_gql.errors import DomainError
from ediary_gql.events.bus import EventBus
from ediary_gql.events.tail import LogTail
from ediary_gql.resolvers.loaders import Loaders
from ediary_gql.resolvers.shared_reads import SharedReads
from ediary_gql.settings import Settings


@dataclass(frozen=True, slots=True)
class AppServices:
    """What lives as long as the process: built once in the app's lifespan."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    # sessions for reads only: no transaction round trips on PostgreSQL (db/engine.py)
    read_session_factory: async_sessionmaker[AsyncSession]
    # the hottest single-statement reads: straight through the driver on PostgreSQL (db/reads.py)
    reads: Reads
    bus: EventBus
    # the event log read once per wake-up for every subscriber of the process (events/tail.py)
    tail: LogTail
    # reads shared by every subscriber of the process (per-event checks, single flights)
    shared_reads: SharedReads


@dataclass
class Context:
    services: AppServices
    request: Request | WebSocket
    response: Response | WebSocket | None
    loaders: Loaders
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # set by authentication; a bad token keeps its error here, raised on first need
    _actor: Actor | None = None
    auth_error: DomainError | None = None
    connection_params: dict[str, Any] | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.services.session_factory

    @property
    def read_session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.services.read_session_factory

    @property
    def actor(self) -> Actor | None:
        """The signed-in actor, None if anonymous; a bad token raises its error."""
        if self.auth_error is not None:
            raise self.auth_error
        return self._actor

    @property
    def actor_or_none(self) -> Actor | None:
        """The signed-in actor; None if anonymous or the token is bad (never raises)."""
        return None if self.auth_error is not None else self._actor

    @property
    def signed_in_user_id(self) -> int | None:
        """The signed-in user's id, None if anonymous or the token is bad (never raises)."""
        return None if self._actor is None or self.auth_error is not None else self._actor.user_id

    def set_actor(self, actor: Actor | None, error: DomainError | None = None) -> None:
        self._actor = actor
        self.auth_error = error

    @property
    def client_ip(self) -> str | None:
        client = self.request.client
        return client.host if client else None

    @property
    def user_agent(self) -> str | None:
        return self.request.headers.get("user-agent")

    def fresh_loaders(self, shared: Hashable | None = None, *, max_age: float = 1.0) -> Loaders:
        """New loaders, e.g. for each event of a long-lived subscription; with `shared`
        (an event's position), their row loaders are those of every subscriber of the
        process handling the same event."""
        if shared is None:
            return Loaders(self.read_session_factory)
        return Loaders(self.read_session_factory, rows=self.services.shared_reads.event_rows(shared, max_age=max_age))
