"""Relay `Node`: global IDs for every entity, resolved through loaders and the policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from graphql import FieldNode, FragmentSpreadNode, GraphQLResolveInfo, InlineFragmentNode, SelectionSetNode
from strawberry import relay

from ediary_gql.db.base import Base
from ediary_gql.db.ids import parse_id
from ediary_gql.db.json_shapes import SqlNested
from ediary_gql.resolvers import diary as diary_reads
from ediary_gql.schema.execution import Prebuilt
from ediary_gql.schema.sql.described import DESCRIBED

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
        compiled = _compiled(cls, info) if len(ids) == 1 else None
        result: list[Any] = []
        for row in rows:
            if row is None or not await cls.visible(context, row):
                result.append(None)
            elif compiled is not None:
                result.append(compiled(row))
            else:
                result.append(cls.from_row(row))
        return result


def _compiled(cls: type[EntityNode], info: Any) -> Any:
    """node(id:) of a type described over SQL, on PostgreSQL, for a selection reaching
    past the node's own scalars: a function making the `Prebuilt` of a visible row."""
    name = cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    described = DESCRIBED.get(name)
    if info.field_name != "node" or described is None or described.key != "x.id":
        return None
    table = cls.model.__tablename__
    template = diary_reads.node_rows(info.context, table)
    raw: GraphQLResolveInfo[Any] = getattr(info, "_raw_info", info)  # Strawberry's Info wraps graphql-core's
    if template is None or not any(_nested(raw, node.selection_set) for node in raw.field_nodes):
        return None
    root = _ROOTS.get(name)
    if root is None:
        root = _ROOTS[name] = SqlNested(template, described)

    def prebuilt(row: Any) -> Prebuilt:
        async def document(sql: str, arguments: Any) -> bytes:
            return await diary_reads.node_document(info.context, sql, arguments, pk=row.id)

        async def objects() -> EntityNode:
            return cls.from_row(row)

        return Prebuilt(root, document, objects, type_name=name)

    return prebuilt


_ROOTS: dict[str, SqlNested] = {}  # one root per type: the rendering's cache knows it by identity


def _nested(info: GraphQLResolveInfo[Any], selection: SelectionSetNode | None) -> bool:
    """Whether a selection reaches an object (a field with a selection of its own)."""
    if selection is None:
        return False
    for node in selection.selections:
        if isinstance(node, FieldNode) and node.selection_set is not None:
            return True
        if isinstance(node, InlineFragmentNode) and _nested(info, node.selection_set):
            return True
        if isinstance(node, FragmentSpreadNode):
            fragment = info.fragments.get(node.name.value)
            if fragment is not None and _nested(info, fragment.selection_set):
                return True
    return False
