"""A repeated document skips parsing and validation (bounded caches), limits still apply."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate

from ediary_gql.schema import documents
from tests.support import GraphQLClient


async def test_a_repeated_document_is_parsed_and_validated_once(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    validations: list[DocumentNode] = []

    def counting_validate(schema: GraphQLSchema, document: DocumentNode, rules: Any) -> list[GraphQLError]:
        validations.append(document)
        return validate(schema, document, rules)

    monkeypatch.setattr(documents, "validate", counting_validate)
    query = "query RepeatedForTheCacheTest { me { id } }"
    parses = documents.cached_parse.cache_info()

    for _ in range(4):
        await gql.data(query)

    assert documents.cached_parse.cache_info().hits == parses.hits + 3
    assert len(validations) == 1
    assert documents.cached_parse.cache_info().maxsize == documents.CACHE_SIZE


async def test_the_depth_limit_still_refuses_with_the_cache(gql: GraphQLClient) -> None:
    deep = "{ me { id } " + "".join(f"a{k}: me {{ id }} " for k in range(40)) + "}"
    for _ in range(2):  # the second answer comes from the cache, and must be the same refusal
        body = await gql.post(deep)
        assert body.get("data") is None
        assert "alias" in body["errors"][0]["message"].lower()


async def test_the_token_limit_still_refuses_with_the_cache(gql: GraphQLClient) -> None:
    many = "{ me { " + " ".join("id" for _ in range(6000)) + " } }"
    for _ in range(2):
        body = await gql.post(many)
        assert body.get("data") is None
        assert "token" in body["errors"][0]["message"].lower()
