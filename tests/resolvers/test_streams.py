"""The subscription runner's merge of several channels (a school admin of two schools)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ediary_gql.resolvers.streams import _merged


async def _events(count: int, *, then: BaseException | None = None) -> AsyncIterator[dict[str, Any]]:
    for n in range(count):
        yield {"n": n}
    if then is not None:
        raise then


async def test_an_error_of_one_channel_reaches_the_consumer_even_when_it_lags() -> None:
    # given two channels, one of which fails after more events than the merge buffers
    merged = _merged([_events(1500, then=RuntimeError("the bus dropped")), _events(3)])
    # when the consumer reads slowly, from the start
    received: list[dict[str, Any]] = []

    async def read() -> None:
        async with asyncio.timeout(10):
            async for event in merged:
                received.append(event)
                if len(received) % 100 == 0:
                    await asyncio.sleep(0)

    # then the error ends the stream (it used to be lost once the buffer was full, and
    # the consumer waited for ever), after every event the failing channel sent
    with pytest.raises(RuntimeError, match="the bus dropped"):
        await read()
    assert len(received) >= 1500


async def test_the_merge_ends_when_every_channel_ends() -> None:
    merged = _merged([_events(2), _events(3)])
    assert sorted(e["n"] for e in [e async for e in merged]) == [0, 0, 1, 1, 2]
