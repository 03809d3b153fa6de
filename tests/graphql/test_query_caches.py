"""A repeated document skips parsing and validation (bounded caches), limits still apply."""

from __future__ import annotations

from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from ediary_gql.schema.root import CACHE_SIZE
from tests.support import GraphQLClient


async def test_a_repeated_document_is_parsed_and_validated_once(gql: GraphQLClient) -> None:
    query = "query RepeatedForTheCacheTest { me { id } }"
    await gql.data(query)
    parses, validations = _get_parse_cache(CACHE_SIZE).cache_info(), _get_validate_cache(CACHE_SIZE).cache_info()

    for _ in range(3):
        await gql.data(query)

    assert _get_parse_cache(CACHE_SIZE).cache_info().hits == parses.hits + 3
    assert _get_validate_cache(CACHE_SIZE).cache_info().hits == validations.hits + 3
    assert _get_validate_cache(CACHE_SIZE).cache_info().misses == validations.misses
    assert _get_validate_cache(CACHE_SIZE).cache_info().maxsize == CACHE_SIZE


async def test_the_depth_limit_still_refuses_with_the_cache(gql: GraphQLClient) -> None:
    deep = "{ me { id } " + "".join(f"a{k}: me {{ id }} " for k in range(40)) + "}"
    for _ in range(2):  # the second answer comes from the cache, and must be the same refusal
        body = await gql.post(deep)
        assert body.get("data") is None
        assert "alias" in body["errors"][0]["message"].lower()
