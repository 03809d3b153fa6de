"""A process-wide micro-batcher: every key asked for within one turn of the event
loop is fetched by one call (one statement), whoever asked.

Unlike a DataLoader it keeps nothing: a key asked for while a fetch is running
waits for the next fetch, so every answer was read after it was asked for. That
makes it fit for facts that must be current, such as "is this session still
active", asked again for every event of a long-lived subscription."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


class MicroBatcher(Generic[K, V]):
    """`await batcher.load(key)`: the value `fetch` found for `key`, or None.

    `fetch` gets the distinct keys of one batch, at most `max_batch` at a time,
    and returns a mapping; keys it leaves out come back as None."""

    def __init__(self, fetch: Fetch[K, V], *, max_batch: int = 1000) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._fetch = fetch
        self._max_batch = max_batch
        self._pending: dict[K, asyncio.Future[V | None]] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def load(self, key: K) -> V | None:
        if self._pending is None:
            self._pending = {}
            asyncio.get_running_loop().call_soon(self._dispatch)
        future = self._pending.get(key)
        if future is None:
            future = self._pending[key] = asyncio.get_running_loop().create_future()
        # shielded: one asker cancelled does not cancel the answer the others wait for
        return await asyncio.shield(future)

    def _dispatch(self) -> None:
        batch, self._pending = self._pending or {}, None
        keys = list(batch)
        for start in range(0, len(keys), self._max_batch):
            chunk = {key: batch[key] for key in keys[start : start + self._max_batch]}
            task = asyncio.create_task(self._run(chunk))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, chunk: dict[K, asyncio.Future[V | None]]) -> None:
        try:
            found = await self._fetch(list(chunk))
        except asyncio.CancelledError:
            for future in chunk.values():
                future.cancel()
            raise
        except Exception as exc:
            for future in chunk.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for key, future in chunk.items():
            if not future.done():
                future.set_result(found.get(key))
