"""Every mutation's payload can be built from its resolver's result: checked for all of
them here, since the runner builds it only after the transaction has committed."""

from __future__ import annotations

from typing import get_type_hints

import pytest

from ediary_gql.schema import mutations
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.root import Mutation


def _payloads() -> list[type[Payload]]:
    """The payload types the root's mutations answer, as wired."""
    fields = Mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    return sorted({f.type for f in fields}, key=lambda c: c.__name__)


def test_every_mutation_answers_a_payload() -> None:
    not_payloads = [p for p in _payloads() if not (isinstance(p, type) and issubclass(p, Payload))]
    assert _payloads()
    assert not_payloads == []


@pytest.mark.parametrize("payload", _payloads(), ids=lambda c: c.__name__)
def test_a_payload_built_by_default_names_its_one_result_and_its_type_has_from_row(payload: type[Payload]) -> None:
    if "of" in vars(payload) or any("of" in vars(base) for base in payload.__mro__[1:] if base is not Payload):
        return  # it says itself how it is built
    name = payload.result_field or mutations._only_result_field(payload)
    kind = mutations._strawberry_type(get_type_hints(payload)[name])
    assert hasattr(kind, "from_row"), f"{payload.__name__}.{name}: {kind} has no from_row"
