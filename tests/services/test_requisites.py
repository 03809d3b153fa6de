"""INN, OKPO, KPP and SNILS checks against published valid and invalid examples."""

from __future__ import annotations

import pytest

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import requisites

# Published requisites of well-known organisations (ПАО Сбербанк, ПАО «Газпром», ООО «Яндекс»).
VALID_INNS = ["7707083893", "7736050003", "7736207543"]
VALID_OKPOS = ["00032537", "00040778"]


@pytest.mark.parametrize("raw", [*VALID_INNS, " 7707 083 893 ", "7707-083-893"])
def test_published_company_inns_are_valid(raw: str) -> None:
    assert requisites.normalize_company_inn(raw) == "".join(c for c in raw if c.isdigit())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("7707083894", "ИНН организации указан с ошибкой: не сходится контрольная цифра"),
        ("770708389", "ИНН организации — 10 цифр"),
        ("500100732259", "ИНН организации — 10 цифр"),  # a person's INN, not an organisation's
        ("77070838ab", "ИНН организации — 10 цифр"),
    ],
)
def test_bad_inns_are_refused_with_the_field(raw: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        requisites.normalize_company_inn(raw, field=("school", "inn"))
    [error] = refused.value.errors
    assert (error.code, error.message, error.field) == (ErrorCode.INVALID, message, ("school", "inn"))


def test_an_empty_inn_is_required() -> None:
    with pytest.raises(DomainError) as refused:
        requisites.normalize_company_inn("  ")
    assert refused.value.errors[0].code == ErrorCode.REQUIRED


@pytest.mark.parametrize("raw", VALID_OKPOS)
def test_published_okpo_codes_are_valid(raw: str) -> None:
    assert requisites.normalize_okpo(raw) == raw


def test_okpo_falls_back_to_weights_three_to_nine_on_a_remainder_of_ten() -> None:
    # 0000005 × (1…7) = 35 → 35 mod 11 = 2; look for a base where the first pass gives 10
    first_seven = next(f"{n:07d}" for n in range(10_000_000) if _first_pass(f"{n:07d}") == 10)
    digits = [int(d) for d in first_seven]
    second = sum(d * w for d, w in zip(digits, range(3, 10), strict=True)) % 11
    assert requisites.okpo_check_digit(first_seven) == (0 if second == 10 else second)
    assert requisites.okpo_is_valid(first_seven + str(requisites.okpo_check_digit(first_seven)))


def _first_pass(first_seven: str) -> int:
    return sum(int(d) * w for d, w in zip(first_seven, range(1, 8), strict=True)) % 11


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("00032538", "Код ОКПО указан с ошибкой: не сходится контрольная цифра"),
        ("0003253", "Код ОКПО организации — 8 цифр"),
        ("0003253x", "Код ОКПО организации — 8 цифр"),
    ],
)
def test_bad_okpo_codes_are_refused(raw: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        requisites.normalize_okpo(raw)
    [error] = refused.value.errors
    assert (error.code, error.message, error.field) == (ErrorCode.INVALID, message, ("okpo",))


@pytest.mark.parametrize(("raw", "expected"), [("773601001", "773601001"), ("", None), (None, None)])
def test_kpp_is_nine_digits_or_nothing(raw: str | None, expected: str | None) -> None:
    assert requisites.normalize_kpp(raw) == expected


@pytest.mark.parametrize("raw", ["77360100", "7736010011", "000001001", "7736AB001x"])
def test_bad_kpps_are_refused(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        requisites.normalize_kpp(raw)
    assert refused.value.errors[0].code == ErrorCode.INVALID
    assert refused.value.errors[0].field == ("kpp",)


# The example printed on the SNILS card and in the Pension Fund's rules: 112-233-445 95.
@pytest.mark.parametrize("raw", ["112-233-445 95", "11223344595", "001-001-998 00"])
def test_published_snils_examples_are_valid(raw: str) -> None:
    assert requisites.snils_is_valid(raw)
    assert requisites.normalize_snils(raw) == "".join(c for c in raw if c.isdigit())


@pytest.mark.parametrize("raw", ["112-233-445 96", "112-233-445", "1122334459a"])
def test_bad_snils_are_refused(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        requisites.normalize_snils(raw, field=("child", "snils"))
    assert refused.value.errors[0].code == ErrorCode.INVALID
    assert refused.value.errors[0].field == ("child", "snils")


def test_snils_checksums_of_100_and_101_are_00() -> None:
    # digits weighted 9…1 summing to exactly 100 and 101
    assert requisites.snils_checksum("900000002") == 83
    hundred = next(f"{n:09d}" for n in range(2_000_000, 3_000_000) if _snils_sum(f"{n:09d}") == 100)
    assert requisites.snils_checksum(hundred) == 0
    assert requisites.snils_is_valid(hundred + "00")
    big = next(f"{n:09d}" for n in range(2_000_000, 9_000_000) if _snils_sum(f"{n:09d}") > 101)
    assert requisites.snils_checksum(big) == (_snils_sum(big) % 101) % 100


def _snils_sum(first_nine: str) -> int:
    return sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))


def test_format_snils() -> None:
    assert requisites.format_snils("11223344595") == "112-233-445 95"
