"""The one mutation runner: input → service call → payload, declared once.

    enter_grade: GradePayload = mutation(grades.enter_grade, EnterGradeInput, GradePayload,
                                         description="…")

The runner decodes the input's global IDs (each with its input path, `schema/ids.py`),
opens the one transaction (audit metadata and events after commit included), calls the
resolver as `resolve(context, session, actor, **fields)`, and turns the result into the
payload (`Payload.of`) or a DomainError into its `userErrors` (`Payload.refused`).
Authentication and access failures stay GraphQL errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ClassVar, Literal, Self, get_type_hints

import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import recording_transaction, transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.ids import decode

Resolve = Callable[..., Awaitable[Any]]


class Payload:
    """The base of a mutation's payload (a `strawberry.type` with its result fields, then
    `user_errors`). With one result field whose type has `from_row`, `of` builds it from
    the resolver's row (or list of rows); payloads of other shapes name the field in
    `result_field` or say how in `of`, and in `refused` if refusals carry more."""

    # the result field `of` fills, when a payload has several (else its only one)
    result_field: ClassVar[str | None] = None

    @classmethod
    def of(cls, result: Any) -> Self:
        name = cls.result_field or _only_result_field(cls)
        if result is None:
            return cls(**{name: None})
        kind = _strawberry_type(get_type_hints(cls)[name])
        if isinstance(result, list):
            return cls(**{name: [kind.from_row(r) for r in result]})
        return cls(**{name: kind.from_row(result)})

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        return cls(user_errors=user_errors(error))  # type: ignore[call-arg]  # a strawberry type


def _only_result_field(cls: type[Payload]) -> str:
    names = [f.name for f in dataclasses.fields(cls) if f.name != "user_errors"]  # type: ignore[arg-type]  # a strawberry type
    if len(names) != 1:
        raise TypeError(f"{cls.__name__} has several result fields: name one in result_field or define of()")
    return names[0]


def _strawberry_type(annotation: Any) -> Any:
    """`Grade` out of `Grade | None` or `list[Grade]`."""
    for arg in getattr(annotation, "__args__", ()):
        if arg is not type(None):
            return _strawberry_type(arg)
    return annotation


_INPUT = "The mutation's fields; a problem with any of them comes back in userErrors with its path"


def mutation(
    resolve: Resolve,
    input_type: type[Any] | None,
    payload_type: type[Payload],
    *,
    description: str | None,
    actor: Literal["required", "optional"] = "required",
    records_refusals: bool = False,
    optional_input: bool = False,
) -> Any:
    """A mutation field taking `input: input_type` and answering `payload_type`.

    `actor="optional"` lets the anonymous in (register, sign in): the resolver gets None;
    such a mutation also runs under a bad or expired token (it reads no actor), where
    any other operation is refused with 401 (`mutations_without_actor`, app.py).
    `records_refusals`: what the resolver records before a RecordedRefusal (a failed
    attempt, a spent code) is committed with the refusal (`recording_transaction`).
    `input_type=None`: a mutation with no input (revokeCalendarFeed); `optional_input`:
    `input: X = null` (signOut). Without an input the resolver gets no fields: its
    keyword defaults apply."""

    async def run(info: strawberry.Info[Context, None], input: Any) -> Payload:
        ctx = info.context
        who: Actor | None = policy.require_actor(ctx.actor) if actor == "required" else ctx.actor_or_none
        begin = recording_transaction if records_refusals else transaction
        try:
            fields = {} if input is None else decode(input)
            async with begin(ctx) as session:
                result = await resolve(ctx, session, who, **fields)
        except DomainError as exc:
            return payload_type.refused(exc)
        return payload_type.of(result)

    async def run_without_input(info: strawberry.Info[Context, None]) -> Payload:
        return await run(info, None)

    async def run_with_optional_input(info: strawberry.Info[Context, None], input: Any = None) -> Payload:
        return await run(info, input)

    field: Callable[..., Awaitable[Payload]] = run
    argument = strawberry.argument(description=_INPUT)
    annotations: dict[str, Any] = {"info": strawberry.Info[Context, None], "input": Annotated[input_type, argument]}
    if input_type is None:
        field, annotations = run_without_input, {"info": strawberry.Info[Context, None]}
    elif optional_input:
        field, annotations["input"] = run_with_optional_input, Annotated[input_type | None, argument]
    field.__annotations__ = {**annotations, "return": payload_type}
    field.__name__ = resolve.__name__
    return strawberry.mutation(resolver=field, description=description, metadata={_ACTOR: actor})


_ACTOR = "ediary.actor"  # a mutation field's `actor` option, in its Strawberry metadata


def mutations_without_actor(schema: strawberry.Schema) -> frozenset[str]:
    """The GraphQL names of the schema's mutations made with `actor="optional"`: the only
    operations a request with a bad, expired or revoked token may still run."""
    root = schema.get_type_by_name("Mutation")
    if not isinstance(root, StrawberryObjectDefinition):
        return frozenset()
    names = schema.config.name_converter
    return frozenset(names.get_graphql_name(f) for f in root.fields if f.metadata.get(_ACTOR) == "optional")
