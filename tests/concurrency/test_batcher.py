"""MicroBatcher: what is asked in one loop turn is fetched once; nothing is kept."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from ediary_gql.concurrency.batcher import MicroBatcher


class Store:
    """A fetch over a dict that records each call's keys; `gate` holds calls while cleared."""

    def __init__(self, values: dict[int, str]) -> None:
        self.values = values
        self.calls: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()
        self.fail: Exception | None = None

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, str]:
        self.calls.append(list(keys))
        self.started.set()
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return {k: self.values[k] for k in keys if k in self.values}


async def test_keys_asked_in_one_turn_are_fetched_once_each() -> None:
    store = Store({1: "a", 2: "b"})
    batcher = MicroBatcher(store.fetch)
    found = await asyncio.gather(*(batcher.load(k) for k in (1, 2, 1, 3, 2)))
    assert found == ["a", "b", "a", None, "b"]
    assert store.calls == [[1, 2, 3]]


async def test_a_key_asked_while_a_fetch_runs_waits_for_the_next_fetch() -> None:
    # given a fetch of key 1 that is running
    store = Store({1: "old"})
    batcher = MicroBatcher(store.fetch)
    store.gate.clear()
    first = asyncio.ensure_future(batcher.load(1))
    await store.started.wait()

    # when the value changes and key 1 is asked again
    store.values[1] = "new"
    second = asyncio.ensure_future(batcher.load(1))
    store.gate.set()

    # then the second asker gets a read made after it asked, not the running one
    assert (await first, await second) == ("new", "new")
    assert store.calls == [[1], [1]]


async def test_large_batches_are_fetched_in_chunks() -> None:
    store = Store({k: str(k) for k in range(10)})
    batcher = MicroBatcher(store.fetch, max_batch=4)
    assert await asyncio.gather(*(batcher.load(k) for k in range(10))) == [str(k) for k in range(10)]
    assert sorted(len(call) for call in store.calls) == [2, 4, 4]


async def test_a_failed_fetch_reaches_every_asker_and_the_next_batch_reads_again() -> None:
    store = Store({1: "a"})
    batcher = MicroBatcher(store.fetch)
    store.fail = RuntimeError("database down")
    results = await asyncio.gather(batcher.load(1), batcher.load(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    store.fail = None
    assert await batcher.load(1) == "a"


async def test_one_asker_cancelled_leaves_the_others_their_answer() -> None:
    store = Store({1: "a"})
    batcher = MicroBatcher(store.fetch)
    store.gate.clear()
    leaving = asyncio.ensure_future(batcher.load(1))
    staying = asyncio.ensure_future(batcher.load(1))
    await store.started.wait()
    leaving.cancel()
    store.gate.set()
    assert await staying == "a"
    with pytest.raises(asyncio.CancelledError):
        await leaving


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatcher(Store({}).fetch, max_batch=0)
