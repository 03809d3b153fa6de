"""Reads shared by every subscriber in this process. When an event wakes N
subscribers, each must re-check its own authorization and re-read what changed;
the facts behind those checks (is a session still active, a user's roles, a
class's school and teachers) are asked for by all N in the same loop turn and
fetched here in one statement per kind, and what every subscriber re-reads
alike is computed once per event through `flights`; the rows an event's subscribers
load (the object, its nested fields) come from row loaders shared by all of them
(`event_rows`). Only the reads are shared: each subscriber still decides for
itself, through the policy."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth.actor import Actor
from ediary_gql.concurrency.batcher import MicroBatcher
from ediary_gql.concurrency.single_flight import SingleFlight
from ediary_gql.resolvers.loaders import RowLoaders
from ediary_gql.services import diary_facts, sessions
from ediary_gql.services.diary_facts import ClassStaff

ROWS_MAX_AGE = 1.0
ROWS_KEPT = 32
V = TypeVar("V")


class _EventShare:
    """What the subscribers handling one event share: row loaders and computed answers."""

    __slots__ = ("created", "once", "rows")

    def __init__(self, created: float) -> None:
        self.created = created
        self.rows: RowLoaders = {}
        self.once: dict[Hashable, asyncio.Future[Any]] = {}


class SharedReads:
    """Built once per process, with the session factory; every read opens its own short session."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._sessions = MicroBatcher(self._active_sessions)
        self._actors = MicroBatcher(self._actors_of)
        self._classes = MicroBatcher(self._class_staff)
        self._schools = MicroBatcher(self._existing_schools)
        self.flights = SingleFlight()
        self._event_rows: OrderedDict[Hashable, _EventShare] = OrderedDict()

    def event_rows(self, key: Hashable, *, max_age: float = ROWS_MAX_AGE) -> RowLoaders:
        """The row loaders shared by the subscribers handling one event (`key`: its
        position), or setting up in the same moment (`key`: "setup", with a short
        `max_age`). A registry serves for at most `max_age` seconds, so no row it caches
        is older than that; the last `ROWS_KEPT` are kept."""
        return self._share(key, max_age).rows

    async def once_per_event(self, position: int, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        """`compute()` once for every subscriber handling the event at `position` (e.g. a
        class's attendance summary after a change): the first asks, the others wait for
        its answer, read after the event committed."""
        share = self._share(position, ROWS_MAX_AGE)
        task = share.once.get(key)
        if task is None:
            task = share.once[key] = asyncio.ensure_future(compute())
        return cast(V, await asyncio.shield(task))

    def _share(self, key: Hashable, max_age: float) -> _EventShare:
        now = time.monotonic()
        found = self._event_rows.get(key)
        if found is not None and now - found.created <= max_age:
            return found
        share = self._event_rows[key] = _EventShare(now)
        self._event_rows.move_to_end(key)
        while len(self._event_rows) > ROWS_KEPT:
            self._event_rows.popitem(last=False)
        return share

    async def session_active(self, session_id: int) -> bool:
        """Neither revoked nor expired, read now."""
        return bool(await self._sessions.load(session_id))

    async def actor(self, user_id: int) -> Actor | None:
        """The user's facts as they are now (session_id None); None if the user is gone."""
        return await self._actors.load(user_id)

    async def class_staff(self, class_id: int) -> ClassStaff | None:
        """The class's school and teachers as they are now; None if the class is gone."""
        return await self._classes.load(class_id)

    async def school_exists(self, school_id: int) -> bool:
        return bool(await self._schools.load(school_id))

    async def _active_sessions(self, ids: Sequence[int]) -> Mapping[int, bool]:
        async with self._session_factory() as session:
            return dict.fromkeys(await sessions.active_sessions(session, ids), True)

    async def _actors_of(self, ids: Sequence[int]) -> Mapping[int, Actor]:
        async with self._session_factory() as session:
            return await sessions.load_actors(session, ids)

    async def _class_staff(self, ids: Sequence[int]) -> Mapping[int, ClassStaff]:
        async with self._session_factory() as session:
            return await diary_facts.class_staff(session, ids)

    async def _existing_schools(self, ids: Sequence[int]) -> Mapping[int, bool]:
        async with self._session_factory() as session:
            return dict.fromkeys(await diary_facts.existing_schools(session, ids), True)
