"""Parsing and validation of request documents: bounded caches and the query limits.

What Strawberry's ParserCache, ValidationCache, AddValidationRules and
MaxTokensLimiter do, as one extension: every extension costs every request its
hooks (a context manager per phase), and these four only ever act together.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

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
        context.pre_execution_errors = _validate_once(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield


@lru_cache(maxsize=8)
def _limit_rules(max_depth: int, max_aliases: int) -> Rules:
    # made once per limits: a rule class made per request would be a new cache key every
    # time, and every document would be validated again
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )
