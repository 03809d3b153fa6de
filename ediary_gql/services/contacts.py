"""Phone numbers and email addresses in one canonical form."""

from __future__ import annotations

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from ediary_gql.errors import DomainError, ErrorCode


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """E.164 (+79991234567); Russian numbers accepted as 8 999 123-45-67 and the like."""
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError(ErrorCode.INVALID, "Некорректный номер телефона", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(ErrorCode.INVALID, _email_refusal(raw), field=field) from None
    return result.normalized.lower()


def _email_refusal(raw: str) -> str:
    """Why an address is refused, where a person could not tell by looking at it."""
    domain = raw.strip().rpartition("@")[2].rstrip(".").lower()
    # `.test`, `.local`, `.invalid`, …: names reserved (RFC 6761 and after) that never take mail
    reserved = next((name for name in SPECIAL_USE_DOMAIN_NAMES if domain == name or domain.endswith("." + name)), None)
    if "@" in raw and reserved is not None:
        return (
            f"Домен «{domain}» не принимает почту: имена в зоне «.{reserved}» зарезервированы для служебных "
            "целей. Укажите настоящий адрес электронной почты"
        )
    return "Некорректный адрес электронной почты"


def looks_like_email(login: str) -> bool:
    return "@" in login
