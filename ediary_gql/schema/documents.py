"""Parsing and validation of request documents: bounded caches and the query limits.

What Strawberry's ParserCache, ValidationCache, AddValidationRules and
MaxTokensLimiter do, as one extension: every extension costs every request its
hooks (a context manager per phase), and these four only ever act together. With
`bounds`, also the checks on a validated document (schema/strings.py: no NUL in any
string; schema/cost.py: its cost, the viewer's budget) and the time a query may run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Any

import structlog
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import ASTValidationRule
from starlette.responses import Response
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.types.graphql import OperationType

from ediary_gql.schema.cost import RequestBounds, operation_cost, throttled, timed_out, too_costly, viewer_key
from ediary_gql.schema.strings import nul_refusal

log = structlog.get_logger(__name__)

CACHE_SIZE = 512  # distinct documents kept parsed, and validated

# keyed by the document's text (and the token limit), as a repeated request sends it
cached_parse = lru_cache(maxsize=CACHE_SIZE)(parse)


def _validate_once(schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[GraphQLError]:
    """The validation errors of a parsed document, kept by its identity: the parse cache
    hands out the same document for the same text, and hashing a document walks its
    whole syntax tree (an lru_cache over it did that on every request)."""
    key = (id(schema), id(document), rules)
    found = _VALIDATED.get(key)
    if found is not None and found[0] is schema and found[1] is document:
        return found[2]
    errors = validate(schema, document, rules)
    if len(_VALIDATED) >= CACHE_SIZE:
        del _VALIDATED[next(iter(_VALIDATED))]
    _VALIDATED[key] = (schema, document, errors)  # holding both keeps their ids unused meanwhile
    return errors


Rules = tuple[type[ASTValidationRule], ...]
_VALIDATED: dict[tuple[int, int, Rules], tuple[GraphQLSchema, DocumentNode, list[GraphQLError]]] = {}


class PreparedDocuments(SchemaExtension):
    """Parses and validates through the caches, with the depth, alias and token limits;
    with `bounds`, refuses what they do not allow and reports the cost (`extensions.cost`)."""

    def __init__(
        self, *, max_depth: int, max_aliases: int, max_tokens: int, bounds: RequestBounds | None = None
    ) -> None:
        self.rules = _limit_rules(max_depth, max_aliases)
        self.max_tokens = max_tokens
        self.bounds = bounds
        self.cost_report: dict[str, Any] | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.rules)
        context.parse_options["max_tokens"] = self.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = cached_parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # noqa: S101 - parsed just before
        errors = _validate_once(context.schema._schema, context.graphql_document, tuple(context.validation_rules))
        if not errors and self.bounds is not None:
            errors = self._refusals(self.bounds)
        context.pre_execution_errors = errors
        yield

    def _refusals(self, bounds: RequestBounds) -> list[GraphQLError]:
        """What refuses a valid document before it runs: a NUL in a string, an argument out
        of bounds, a cost over the limit, a spent budget (the cost is reported either way)."""
        context = self.execution_context
        document = context.graphql_document
        assert document is not None  # noqa: S101 - parsed just before
        refused = nul_refusal(document, context.variables)
        if refused is not None:
            return [refused]
        try:
            cost = operation_cost(
                context.schema._schema, document, context.operation_name, context.variables, page_max=bounds.page_max
            )
        except GraphQLError as out_of_bounds:
            return [out_of_bounds]
        report: dict[str, Any] = {"requestedQueryCost": cost, "maximumCost": bounds.max_cost}
        if context.operation_type is not OperationType.SUBSCRIPTION:  # not repeated on every event
            self.cost_report = report
        if cost > bounds.max_cost:
            return [too_costly(cost, bounds.max_cost)]
        if bounds.budget is None:
            return []
        throttle = bounds.budget.take(viewer_key(context.context), cost)
        report["throttleStatus"] = throttle.status()
        if throttle.allowed:
            return []
        refusal = throttled(cost, throttle)
        response = getattr(context.context, "response", None)
        if isinstance(response, Response) and refusal.extensions:
            response.headers["Retry-After"] = str(refusal.extensions["retryAfterSeconds"])
        return [refusal]

    async def on_execute(self) -> AsyncIterator[None]:
        bounds = self.bounds
        if bounds is None or self.execution_context.operation_type is not OperationType.QUERY:
            # mutations run to the end: one cut off mid-way could lose its after-commit work
            yield
            return
        deadline = asyncio.timeout(bounds.timeout_seconds)
        try:
            async with deadline:
                yield
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning("query_timeout", seconds=bounds.timeout_seconds)
            raise timed_out(bounds.timeout_seconds) from None

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost_report is None else {"cost": self.cost_report}


@lru_cache(maxsize=8)
def _limit_rules(max_depth: int, max_aliases: int) -> Rules:
    # made once per limits: a rule class made per request would be a new cache key every
    # time, and every document would be validated again
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )
