"""SingleFlight: one computation per key shared by whoever heard of the change before
it started; whoever heard later gets a computation of its own."""

from __future__ import annotations

import asyncio

import pytest

from ediary_gql.concurrency.single_flight import SingleFlight, ticket


class Source:
    """A value that changes; `compute` reads it, counting reads; `gate` holds them while cleared."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.reading = asyncio.Event()

    async def compute(self) -> int:
        self.reads += 1
        value = self.value
        self.reading.set()
        await self.gate.wait()
        return value


async def test_everyone_who_heard_before_it_started_shares_one_computation() -> None:
    flights, source = SingleFlight(), Source()
    heard = [ticket() for _ in range(50)]
    results = await asyncio.gather(*(flights.run("k", source.compute, fresh_after=t) for t in heard))
    assert results == [0] * 50
    assert source.reads == 1
    assert len(flights) == 0  # nothing kept once done


async def test_who_heard_after_it_started_gets_a_computation_that_reads_the_change() -> None:
    # given a computation running, started before a change
    flights, source = SingleFlight(), Source()
    source.gate.clear()
    early = asyncio.ensure_future(flights.run("k", source.compute, fresh_after=ticket()))
    await source.reading.wait()

    # when the value changes and a subscriber hears of it
    source.value = 1
    late = asyncio.ensure_future(flights.run("k", source.compute, fresh_after=ticket()))
    source.gate.set()

    # then it does not join the running computation
    assert (await early, await late) == (0, 1)
    assert source.reads == 2


async def test_keys_are_computed_apart() -> None:
    flights, source = SingleFlight(), Source()
    heard = ticket()
    await asyncio.gather(
        flights.run("a", source.compute, fresh_after=heard), flights.run("b", source.compute, fresh_after=heard)
    )
    assert source.reads == 2


async def test_a_failure_reaches_everyone_who_joined_and_the_next_ask_computes_again() -> None:
    flights = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    heard = ticket()
    results = await asyncio.gather(
        *(flights.run("k", failing, fresh_after=heard) for _ in range(3)), return_exceptions=True
    )
    assert [type(r) for r in results] == [RuntimeError] * 3
    assert calls == 1
    with pytest.raises(RuntimeError):
        await flights.run("k", failing, fresh_after=heard)
    assert calls == 2


async def test_one_asker_cancelled_leaves_the_others_their_answer() -> None:
    flights, source = SingleFlight(), Source()
    source.gate.clear()
    heard = ticket()
    leaving = asyncio.ensure_future(flights.run("k", source.compute, fresh_after=heard))
    staying = asyncio.ensure_future(flights.run("k", source.compute, fresh_after=heard))
    await asyncio.sleep(0)
    leaving.cancel()
    source.gate.set()
    assert await staying == 0
    assert source.reads == 1
