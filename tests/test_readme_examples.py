"""The GraphQL examples of the README stay valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from ediary_gql.schema.root import build_schema
from ediary_gql.settings import load_settings

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.strip().splitlines()[0][:40] for e in EXAMPLES])
def test_example_is_valid(example: str) -> None:
    schema = build_schema(load_settings(secret_key="readme-examples-secret-key-0123456789"))
    assert [e.message for e in validate(schema._schema, parse(example))] == []
