"""The registry of personal fields is whole and true to the models and the policy."""

from __future__ import annotations

from ediary_gql.auth import personal_fields, policy
from ediary_gql.db import models  # noqa: F401 - registers every table
from ediary_gql.db.base import Base


def test_every_field_names_real_columns_and_a_policy_rule() -> None:
    for field in personal_fields.FIELDS:
        table = Base.metadata.tables[field.table]
        assert set(field.columns) <= set(table.c.keys()), field.key
        assert field.visible_to == "nobody" or callable(getattr(policy, field.visible_to, None)), field.key
        if field.on_erasure is personal_fields.OnErasure.ANONYMISE:
            assert field.anonymised_as, field.key
    assert len(personal_fields.BY_KEY) == len(personal_fields.FIELDS)


def test_identity_documents_are_audited_and_secrets_never_exported() -> None:
    for field in personal_fields.FIELDS:
        if field.field_class is personal_fields.FieldClass.IDENTITY_DOCUMENT:
            assert field.audited, field.key
        if field.field_class is personal_fields.FieldClass.SECRET:
            assert not field.exported, field.key
    assert "password_hash" in personal_fields.secret_columns("users")
    assert "password_hash" not in personal_fields.exported_columns("users")
    assert set(personal_fields.AUDITED) >= {"Child.snils", "Child.birthCertificate"}


def test_masks() -> None:
    assert personal_fields.shown(personal_fields.USER_PHONE, "+79161234567", allowed=False) == "+7 *** ***-45-67"
    assert personal_fields.shown(personal_fields.USER_EMAIL, "anna@example.ru", allowed=False) == "a***@example.ru"
    assert personal_fields.shown(personal_fields.CHILD_SNILS, "11223344595", allowed=False) is None
    assert personal_fields.shown(personal_fields.CHILD_SNILS, "11223344595", allowed=True) == "11223344595"


def test_text_redaction() -> None:
    redacted = personal_fields.redact_text("СНИЛС 112-233-445 95, код подтверждения: 123456, Bearer abc")
    assert "112-233-445" not in redacted
    assert "123456" not in redacted
    assert "abc" not in redacted
    # a request id (hex) keeps its digits
    assert personal_fields.redact_text("req 3f2a12345678901b") == "req 3f2a12345678901b"
