"""Every mutation leaves an audit entry named after it, so `auditLog(filter: {action})`
finds a mutation's changes by the name clients know it by."""

from __future__ import annotations

import re
from pathlib import Path

from ediary_gql.schema.root import build_schema
from ediary_gql.settings import load_settings

SERVICES = Path(__file__).resolve().parents[2] / "ediary_gql" / "services"
# A token rotation is not a change to audit; its reuse revokes the session, which is.
RECORDED_OTHERWISE = {"refreshToken"}


def test_every_mutation_records_an_audit_action_of_its_own_name() -> None:
    schema = build_schema(load_settings(secret_key="audit-actions-secret-key-0123456789"))
    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    # the workflows name their audit actions with string literals in services/
    source = "\n".join(path.read_text(encoding="utf-8") for path in SERVICES.rglob("*.py"))
    recorded = set(re.findall(r'"(\w+)"', source))
    missing = sorted(m for m in mutations - recorded if m not in RECORDED_OTHERWISE)
    assert missing == []
