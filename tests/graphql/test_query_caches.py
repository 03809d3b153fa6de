"""A repeated document skips parsing and validation (bounded caches), limits still apply."""

from __future__ import annotations

from ediary_gql.schema.documents import CACHE_SIZE, cached_parse, cached_validate
from tests.support import GraphQLClient


async def test_a_repeated_document_is_parsed_and_validated_once(gql: GraphQLClient) -> None:
    query = "query RepeatedForTheCacheTest { me { id } }"
    await gql.data(query)
    parses, validations = cached_parse.cache_info(), cached_validate.cache_info()

    for _ in range(3):
        await gql.data(query)

    assert cached_parse.cache_info().hits == parses.hits + 3
    assert cached_validate.cache_info().hits == validations.hits + 3
    assert cached_validate.cache_info().misses == validations.misses
    assert cached_validate.cache_info().maxsize == CACHE_SIZE


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
