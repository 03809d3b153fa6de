"""Parsing and validation of request documents: bounded caches and the query limits.

What Strawberry's ParserCache, ValidationCache, AddValidationRules and
MaxTokensLimiter do, as one extension: every extension costs every request its
hooks (a context manager per phase), and these four only ever act together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from graphql import parse, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

CACHE_SIZE = 512  # distinct documents kept parsed, and validated

# keyed by the document's text (and the token limit), as a repeated request sends it
cached_parse = lru_cache(maxsize=CACHE_SIZE)(parse)
# keyed by the parsed document itself, which the parse cache hands out again for the same text
cached_validate = lru_cache(maxsize=CACHE_SIZE)(validate)


class PreparedDocuments(SchemaExtension):
    """Parses and validates through the caches, with the depth, alias and token limits."""

    def __init__(self, *, max_depth: int, max_aliases: int, max_tokens: int) -> None:
        self.rules = _limit_rules(max_depth, max_aliases)
        self.max_tokens = max_tokens

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
        context.pre_execution_errors = cached_validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield


@lru_cache(maxsize=8)
def _limit_rules(max_depth: int, max_aliases: int) -> Sequence[type[ASTValidationRule]]:
    # made once per limits: a rule class made per request would be a new cache key every
    # time, and every document would be validated again
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )
