"""The OKSM country list shipped as data, and citizenship codes checked against it."""

from __future__ import annotations

import pytest

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import oksm
from ediary_gql.services.applications.form import normalize_citizenship


def test_the_list_is_the_whole_classifier() -> None:
    countries = oksm.countries()
    # ISO 3166-1's 249 numeric codes, and Abkhazia and South Ossetia of the Russian edition
    assert len(countries) == 251
    assert all(len(code) == 3 and code.isascii() and code.isdigit() for code in countries)
    assert all(name and name == name.strip() for name in countries.values())
    assert list(countries) == sorted(countries)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("643", "РОССИЯ"),
        ("004", "АФГАНИСТАН"),
        ("112", "БЕЛАРУСЬ"),
        ("398", "КАЗАХСТАН"),
        ("762", "ТАДЖИКИСТАН"),
        ("860", "УЗБЕКИСТАН"),
        ("180", "КОНГО, ДЕМОКРАТИЧЕСКАЯ РЕСПУБЛИКА"),
        ("895", "АБХАЗИЯ"),
        ("896", "ЮЖНАЯ ОСЕТИЯ"),
    ],
)
def test_a_country_by_its_code(code: str, name: str) -> None:
    assert oksm.is_code(code)
    assert oksm.name_of(code) == name


@pytest.mark.parametrize("code", ["530", "810", "999", "000", "4", "04", "0643", "RUS", ""])
def test_retired_unassigned_and_malformed_codes_name_no_country(code: str) -> None:
    # 530 Netherlands Antilles and 810 the USSR are no longer in the classifier
    assert not oksm.is_code(code)
    assert oksm.name_of(code) is None


@pytest.mark.parametrize(("raw", "clean"), [("643", "643"), (" 112 ", "112"), ("\t004\n", "004")])
def test_citizenship_is_a_listed_code(raw: str, clean: str) -> None:
    assert normalize_citizenship(raw) == clean


@pytest.mark.parametrize("raw", ["999", "530", "64", "6430", "RUS", "Россия", "６４３", ""])
def test_other_citizenships_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalize_citizenship(raw, field=("child", "citizenship"))
    [error] = refused.value.errors
    assert (error.code, error.field) == (ErrorCode.INVALID, ("child", "citizenship"))
