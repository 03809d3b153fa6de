"""The one registry of personal fields (152-FZ): every field that holds personal data,
its class, who may see it unmasked, how it is masked for everyone else, whether a read
of it is audited, and what an export and an erasure do with it.

Masking in the schema types reads `mask`, the audited reads (services/personal_data/
sensitive_reads.py) read `audited`, the export (services/personal_data/export.py) writes
every field the registry lists for the rows it exports, and the erasure
(services/personal_data/erasure.py) applies `on_erasure`. Who may see a field is a rule
of auth/policy.py named here by `visible_to` (the rule itself lives there).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class FieldClass(enum.StrEnum):
    """How sensitive a field is."""

    IDENTITY_DOCUMENT = "IDENTITY_DOCUMENT"  # SNILS, birth certificate: reads are audited
    CONTACT = "CONTACT"  # phone, email
    NAME = "NAME"
    BIRTH = "BIRTH"  # birth date
    SECRET = "SECRET"  # password hashes, second-factor secrets: never shown nor exported


class OnErasure(enum.StrEnum):
    """What an approved erasure does with the field's value."""

    DELETE = "DELETE"  # the row holding it goes (accounts, contacts)
    ANONYMISE = "ANONYMISE"  # the value is replaced; the row stays (a school's record of a child)
    CLEAR = "CLEAR"  # the value is set to null; the row stays


MASK = "***"


def mask_phone(phone: str) -> str:
    """`+7 *** ***-45-67`."""
    return phone[:2] + " *** ***-" + phone[-4:-2] + "-" + phone[-2:] if len(phone) >= 6 else MASK


def mask_email(email: str) -> str:
    """`i***@example.ru`."""
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else MASK


def hidden(_: str) -> None:
    """Not shown at all to those who may not see it (null)."""
    return


@dataclass(frozen=True, slots=True)
class PersonalField:
    key: str  # "Type.field", as the API names it
    table: str
    columns: tuple[str, ...]
    field_class: FieldClass
    visible_to: str  # the auth/policy.py rule deciding who sees it unmasked
    mask: Callable[[str], str | None]
    audited: bool
    exported: bool
    on_erasure: OnErasure
    anonymised_as: str | None = None  # the replacement for ANONYMISE


ANONYMISED_NAME = "Обезличено"

FIELDS: tuple[PersonalField, ...] = (
    PersonalField(
        "Child.snils",
        "children",
        ("snils",),
        FieldClass.IDENTITY_DOCUMENT,
        "can_view_child_documents",
        hidden,
        audited=True,
        exported=True,
        on_erasure=OnErasure.CLEAR,
    ),
    PersonalField(
        "Child.birthCertificate",
        "children",
        ("birth_cert_series", "birth_cert_number", "birth_cert_issued_on"),
        FieldClass.IDENTITY_DOCUMENT,
        "can_view_child_documents",
        hidden,
        audited=True,
        exported=True,
        on_erasure=OnErasure.CLEAR,
    ),
    PersonalField(
        "Child.name",
        "children",
        ("last_name", "first_name", "middle_name"),
        FieldClass.NAME,
        "can_view_child",
        hidden,
        audited=False,
        exported=True,
        on_erasure=OnErasure.ANONYMISE,
        anonymised_as=ANONYMISED_NAME,
    ),
    PersonalField(
        "Child.birthDate",
        "children",
        ("birth_date",),
        FieldClass.BIRTH,
        "can_view_child",
        hidden,
        audited=False,
        exported=True,
        on_erasure=OnErasure.ANONYMISE,
        anonymised_as="2000-01-01",
    ),
    PersonalField(
        "ApplicationChild.snils",
        "applications",
        ("child_snils",),
        FieldClass.IDENTITY_DOCUMENT,
        "can_view_application_documents",
        hidden,
        audited=True,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "ApplicationChild.birthCertificate",
        "applications",
        ("birth_cert_series", "birth_cert_number", "birth_cert_issued_on"),
        FieldClass.IDENTITY_DOCUMENT,
        "can_view_application_documents",
        hidden,
        audited=True,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.phone",
        "users",
        ("phone",),
        FieldClass.CONTACT,
        "can_view_contacts",
        mask_phone,
        audited=False,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.email",
        "users",
        ("email",),
        FieldClass.CONTACT,
        "can_view_contacts",
        mask_email,
        audited=False,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.name",
        "users",
        ("last_name", "first_name", "middle_name"),
        FieldClass.NAME,
        "can_view_user",
        hidden,
        audited=False,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.birthDate",
        "users",
        ("birth_date",),
        FieldClass.BIRTH,
        "can_view_birth_date",
        hidden,
        audited=False,
        exported=True,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.password",
        "users",
        ("password_hash",),
        FieldClass.SECRET,
        "nobody",
        hidden,
        audited=False,
        exported=False,
        on_erasure=OnErasure.DELETE,
    ),
    PersonalField(
        "User.totpSecret",
        "users",
        ("totp_secret", "feed_token"),
        FieldClass.SECRET,
        "nobody",
        hidden,
        audited=False,
        exported=False,
        on_erasure=OnErasure.DELETE,
    ),
)

BY_KEY: Mapping[str, PersonalField] = {f.key: f for f in FIELDS}

CHILD_SNILS = BY_KEY["Child.snils"]
CHILD_BIRTH_CERTIFICATE = BY_KEY["Child.birthCertificate"]
USER_PHONE = BY_KEY["User.phone"]
USER_EMAIL = BY_KEY["User.email"]
APPLICATION_SNILS = BY_KEY["ApplicationChild.snils"]
APPLICATION_BIRTH_CERTIFICATE = BY_KEY["ApplicationChild.birthCertificate"]

# Fields whose reads are audited, by the name a sensitive-read row keeps.
AUDITED: Mapping[str, PersonalField] = {f.key: f for f in FIELDS if f.audited}


def shown(field: PersonalField, value: str | None, *, allowed: bool) -> str | None:
    """The value as the reader sees it: whole when `allowed`, else the field's mask."""
    if value is None:
        return None
    return value if allowed else field.mask(value)


def exported_columns(table: str) -> tuple[str, ...]:
    """The personal columns of a table that an export writes out."""
    return tuple(c for f in FIELDS if f.table == table and f.exported for c in f.columns)


def secret_columns(table: str) -> frozenset[str]:
    """Columns never shown and never exported."""
    return frozenset(c for f in FIELDS if f.table == table and f.field_class is FieldClass.SECRET for c in f.columns)


# --- what never goes into logs -------------------------------------------------------
# Keys whose values are redacted wherever they appear in a log event (lower case; a key
# containing one of these words matches too, e.g. "refresh_token", "new_password").
SECRET_KEY_WORDS: tuple[str, ...] = (
    "password",
    "token",
    "secret",
    "code",
    "snils",
    "birth_cert",
    "birthcertificate",
    "authorization",
    "cookie",
    "otp",
    "totp",
)
# Keys that contain one of the words but hold no personal data (a status code, an error
# code, a phone's country code are not secrets).
NOT_SECRET_KEYS: frozenset[str] = frozenset(
    {"status_code", "error_code", "code_name", "exit_code", "error", "errors", "event", "level", "logger"}
)

# Value patterns redacted in any string of a log event.
# eleven digits alone (not inside a hex id or a word): a SNILS, or a phone, as personal
SNILS_PATTERN = re.compile(r"\b\d{3}-\d{3}-\d{3}[ -]\d{2}\b|(?<![0-9A-Za-z])\d{11}(?![0-9A-Za-z])")
JWT_PATTERN = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
BEARER_PATTERN = re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+")
# "код 123456", "code: 123456", "код подтверждения: 1234"
CODE_PATTERN = re.compile(r"(?i)\b(код|code|пароль|password)([^\d\n]{0,30}?)\d{4,8}\b")
# A birth certificate: Roman-numeral series, Cyrillic letters, six digits ("IV-АБ 123456").
BIRTH_CERTIFICATE_PATTERN = re.compile(r"\b[IVXLCivxlc1УХЛСухлс]{1,6}-?[А-ЯЁа-яё]{2}\s*№?\s*\d{6}\b")
VALUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    JWT_PATTERN,
    BEARER_PATTERN,
    BIRTH_CERTIFICATE_PATTERN,
    SNILS_PATTERN,
)
REDACTED = "[REDACTED]"


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in NOT_SECRET_KEYS:
        return False
    return any(word in lowered for word in SECRET_KEY_WORDS)


def redact_text(text: str) -> str:
    """`text` with every SNILS, JWT, bearer token, birth certificate and code in it replaced."""
    out = CODE_PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    for pattern in VALUE_PATTERNS:
        out = pattern.sub(REDACTED, out)
    return out
