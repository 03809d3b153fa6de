"""Relay `Node`: global IDs for every entity, resolved through loaders and the policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from strawberry import relay

from ediary_gql.db.base import Base
from ediary_gql.db.ids import parse_id

if TYPE_CHECKING:
    from ediary_gql.context import Context


class EntityNode(relay.Node):
    """Base for node types backed by one table.

    Subclasses set `model`, build themselves in `from_row`, and say who may
    see a row in `visible`; `node(id:)` answers null for rows one may not see,
    exactly as for rows that do not exist, so IDs cannot be probed.
    """

    model: ClassVar[type[Base]]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        raise NotImplementedError

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        raise NotImplementedError

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        context: Context = info.context
        ids = [-1 if (pk := parse_id(str(i))) is None else pk for i in node_ids]
        rows = await context.loaders.by_id(cls.model).load_many(ids)
        result: list[Self | None] = []
        for row in rows:
            if row is not None and await cls.visible(context, row):
                result.append(cls.from_row(row))
            else:
                result.append(None)
        return result
