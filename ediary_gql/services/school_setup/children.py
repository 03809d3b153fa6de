"""A child's data as the school's admin (or a roster import) gives it, checked and put
in canonical form."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ediary_gql.db.models.enums import Sex
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import oksm, person_names
from ediary_gql.services.requisites import normalize_snils
from ediary_gql.services.school_setup.checks import clean_text

CERT_SERIES = re.compile(r"^[IVXLC]{1,4}-[А-ЯЁ]{2}$")
CERT_NUMBER = re.compile(r"^\d{6}$")
CITIZENSHIP = re.compile(r"^\d{3}$")


@dataclass(frozen=True, slots=True)
class ChildData:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: Sex
    snils: str | None = None
    cert_series: str | None = None
    cert_number: str | None = None
    cert_issued_on: dt.date | None = None
    citizenship: str = "643"


@dataclass(slots=True)
class CleanChild:
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date
    sex: Sex
    snils: str | None
    cert_series: str | None
    cert_number: str | None
    cert_issued_on: dt.date | None
    citizenship: str
    problems: list[tuple[str, ErrorCode, str]] = field(default_factory=list)

    def columns(self) -> dict[str, Any]:
        """The values of a Child row's own columns."""
        return {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "snils": self.snils,
            "birth_cert_series": self.cert_series,
            "birth_cert_number": self.cert_number,
            "birth_cert_issued_on": self.cert_issued_on,
            "citizenship": self.citizenship,
        }


def clean_child(data: ChildData, *, today: dt.date) -> CleanChild:
    """A child's data in canonical form, with its problems as (field, code, message);
    the field names are the GraphQL ones (birthCertificate.series …)."""
    problems: list[tuple[str, ErrorCode, str]] = []

    def name(key: str, value: str | None, *, required: bool) -> str | None:
        checked = person_names.check(value, required=required)
        if checked.problem is not None:
            problems.append((key, *checked.problem))
        return checked.value

    last = name("lastName", data.last_name, required=True) or ""
    first = name("firstName", data.first_name, required=True) or ""
    middle = name("middleName", data.middle_name, required=False)
    if data.birth_date > today or data.birth_date < dt.date(today.year - 25, 1, 1):
        problems.append(("birthDate", ErrorCode.INVALID, "Проверьте дату рождения"))
    snils = None
    if clean_text(data.snils) is not None:
        try:
            snils = normalize_snils(data.snils or "")
        except DomainError as exc:
            problems.append(("snils", exc.code, exc.errors[0].message))
    series = clean_text(data.cert_series)
    number = clean_text(data.cert_number)
    if series is not None:
        series = series.upper().replace(" ", "-")
        if not CERT_SERIES.match(series):
            problems.append(("birthCertificate.series", ErrorCode.INVALID, "Серия свидетельства — например IV-АК"))
    if number is not None and not CERT_NUMBER.match(number):
        problems.append(("birthCertificate.number", ErrorCode.INVALID, "Номер свидетельства — 6 цифр"))
    if (series is None) != (number is None):
        missing = "birthCertificate.number" if number is None else "birthCertificate.series"
        problems.append((missing, ErrorCode.REQUIRED, "Укажите и серию, и номер свидетельства"))
    if data.cert_issued_on is not None and (data.cert_issued_on < data.birth_date or data.cert_issued_on > today):
        problems.append(("birthCertificate.issuedOn", ErrorCode.INVALID, "Дата выдачи — после рождения и не в будущем"))
    citizenship = (data.citizenship or "643").strip()
    if not (CITIZENSHIP.match(citizenship) and oksm.is_code(citizenship)):
        problems.append(
            ("citizenship", ErrorCode.INVALID, "Гражданство — трёхзначный код страны по ОКСМ, например 643")
        )
    return CleanChild(
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=data.birth_date,
        sex=data.sex,
        snils=snils,
        cert_series=series,
        cert_number=number,
        cert_issued_on=data.cert_issued_on,
        citizenship=citizenship,
        problems=problems,
    )
