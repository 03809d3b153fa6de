"""Single flight: one computation per key at a time, shared by every task that
needs it, and never older than the change a task heard of.

A task that heard of a change takes a `ticket()` at once; it then asks with
`fresh_after=` that ticket. It joins the computation running for its key if that
one started after its ticket (so it read the change), and starts a new one
otherwise. N subscribers woken by one event thus compute its answer once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, NewType, TypeVar

V = TypeVar("V")

Ticket = NewType("Ticket", int)
_tickets = itertools.count(1)


def ticket() -> Ticket:
    """A point in this process's time: later tickets are greater."""
    return Ticket(next(_tickets))


class SingleFlight:
    """`await flights.run(key, compute, fresh_after=heard)`: the result of a `compute()`
    for `key` that started after `heard`, shared with every other asker it suits."""

    def __init__(self) -> None:
        self._running: dict[Hashable, tuple[Ticket, asyncio.Task[Any]]] = {}

    def __len__(self) -> int:
        """Computations running now."""
        return len(self._running)

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[V]], *, fresh_after: Ticket) -> V:
        running = self._running.get(key)
        if running is None or running[0] <= fresh_after:
            started = ticket()
            task: asyncio.Task[V] = asyncio.ensure_future(compute())
            running = self._running[key] = (started, task)
            task.add_done_callback(lambda _: self._forget(key, started))
        # shielded: one asker cancelled does not cancel what the others wait for
        result: V = await asyncio.shield(running[1])
        return result

    def _forget(self, key: Hashable, started: Ticket) -> None:
        running = self._running.get(key)
        if running is not None and running[0] == started:
            del self._running[key]
