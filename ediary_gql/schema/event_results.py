"""One response per event and audience: what a subscriber of a live event is sent,
executed once for every subscription of the process that would get the very same answer.

An event's response depends on the operation (its document and variables), on the event,
and on who reads it. Subscriptions that agree on all three, the screens of one school's
dashboard, the devices of one parent, the thousand tabs of a test, get one execution of
the selection between them: the first to arrive executes it, the others await its
result. The audience is the viewer (every subscription's context is its one user's, with
facts read anew per event); the event is its log position. Replays and first states are
not shared: each client's is its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from graphql import ExecutionResult

from ediary_gql.schema.execution import LeanExecutionContext

SHARE_ATTRIBUTE = "_shared_as"  # set on a live event's payload by schema/subscriptions.each
KEPT = 4096

MAX_AGE = 1.0  # seconds: a subscriber further behind executes its own, with fresher facts

_results: OrderedDict[Hashable, tuple[float, asyncio.Future[Any]]] = OrderedDict()


def share_as(payload: Any, key: Hashable) -> None:
    """Mark a live event's payload: equal keys (the event, the viewer) share a response."""
    object.__setattr__(payload, SHARE_ATTRIBUTE, key)


class SharingExecutionContext(LeanExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        share = getattr(self.root_value, SHARE_ATTRIBUTE, None)
        if share is None:
            return super().execute_operation(serially)
        operation = self.operation.name.value if self.operation.name is not None else None
        variables = json.dumps(self.variable_values, sort_keys=True, default=str)
        key = (share, self._operation_text(), operation, variables)
        now = time.monotonic()
        found = _results.get(key)
        if found is not None and now - found[0] <= MAX_AGE:
            return _awaiting(found[1])
        result = super().execute_operation(serially)
        future: asyncio.Future[Any] = asyncio.ensure_future(_resolved(result))
        _results[key] = (now, future)
        _results.move_to_end(key)
        while len(_results) > KEPT:
            _results.popitem(last=False)
        return _awaiting(future)

    def _operation_text(self) -> str:
        source = self.operation.loc.source.body if self.operation.loc is not None else None
        return source if source is not None else repr(self.operation)


async def _resolved(result: Any) -> ExecutionResult:
    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        return await result  # type: ignore[no-any-return]
    return result  # type: ignore[no-any-return]


async def _awaiting(future: asyncio.Future[Any]) -> ExecutionResult:
    return await asyncio.shield(future)
