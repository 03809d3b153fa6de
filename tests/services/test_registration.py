"""The rules of registration without GraphQL: names, birth dates, new passwords,
and two people registering the same contacts at the same moment."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import registration
from ediary_gql.services.registration import (
    Registration,
    check_birth_date,
    check_name,
    check_new_password,
    personal_words,
)
from tests.factories import make_user

TODAY = dt.date(2026, 11, 28)


def _name_errors(value: str | None, *, required: bool = True) -> list[ErrorCode]:
    errors = ErrorCollector()
    check_name(errors, "lastName", value, required=required)
    return [e.code for e in errors.errors]


@pytest.mark.parametrize(
    "value", ["Петрова", "Салтыков-Щедрин", "Д'Артаньян", "Д’Артаньян", "Ван Гог", "ёлкина", "Іваненко"]
)
def test_names_of_cyrillic_letters_hyphen_space_apostrophe(value: str) -> None:
    assert _name_errors(value) == []


@pytest.mark.parametrize("value", ["Petrova", "Петрова1", "-Петрова", "Петрова-", "Пет--рова", "Петрова!", "Петrova"])
def test_other_names_are_refused(value: str) -> None:
    assert _name_errors(value) == [ErrorCode.INVALID]


def test_name_spaces_are_collapsed_and_empty_optional_is_none() -> None:
    errors = ErrorCollector()
    assert check_name(errors, "lastName", "  Ван   Гог ", required=True) == "Ван Гог"
    assert check_name(errors, "middleName", "   ", required=False) is None
    assert errors.errors == []
    assert _name_errors("  ") == [ErrorCode.REQUIRED]


@pytest.mark.parametrize(
    ("birth_date", "ok"),
    [
        (dt.date(2012, 11, 28), True),  # fourteen today
        (dt.date(2012, 11, 29), False),  # fourteen tomorrow
        (dt.date(2026, 11, 28), False),  # today
        (dt.date(2030, 1, 1), False),
        (dt.date(1906, 11, 28), True),  # 120
        (dt.date(1890, 1, 1), False),
    ],
)
def test_birth_date_in_the_past_and_fourteen_or_older(birth_date: dt.date, ok: bool) -> None:
    errors = ErrorCollector()
    check_birth_date(errors, "birthDate", birth_date, TODAY)
    assert (errors.errors == []) is ok


def test_leap_day_birthday_comes_of_age_on_the_first_of_march() -> None:
    errors = ErrorCollector()
    check_birth_date(errors, "birthDate", dt.date(2008, 2, 29), dt.date(2022, 2, 28))
    assert [e.code for e in errors.errors] == [ErrorCode.INVALID]
    errors = ErrorCollector()
    check_birth_date(errors, "birthDate", dt.date(2008, 2, 29), dt.date(2022, 3, 1))
    assert errors.errors == []


def _password_errors(password: str, personal: list[str] | None = None) -> list[tuple[ErrorCode, str]]:
    errors = ErrorCollector()
    check_new_password(errors, "password", password, personal=personal or [])
    return [(e.code, e.message) for e in errors.errors]


@pytest.mark.parametrize("password", ["Синий-трактор-2026", "correct horse battery", "Ab3$kq9!zz"])
def test_strong_passwords_pass(password: str) -> None:
    assert _password_errors(password) == []


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234567", "не короче 8 символов"),
        ("password1", "самых распространённых паролей"),
        ("йцукенгш", "самых распространённых паролей"),  # "qwertyui" on the Latin layout
        ("aaaaaaaaaaaa", "повторяются одни и те же символы"),
        ("abcdefgh1", "последовательность символов"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, why: str) -> None:
    ((code, message),) = _password_errors(password)
    assert code == ErrorCode.WEAK_PASSWORD
    assert why in message


def test_passwords_longer_than_zxcvbn_reads_are_scored_by_their_start() -> None:
    # zxcvbn raises on more than 72 characters; found by tests/fuzz
    assert _password_errors("Синий-трактор-2026 " * 6) == []
    ((code, message),) = _password_errors("0" * 100)
    assert code == ErrorCode.WEAK_PASSWORD
    assert "повторяются одни и те же символы" in message
    ((code, _),) = _password_errors("0" * 129)
    assert code == ErrorCode.TOO_LONG


def test_a_password_made_of_ones_own_data_is_refused() -> None:
    personal = personal_words(
        phone="+79161234567", email="anna@example.ru", names=("Петрова", "Анна", None), birth_date=dt.date(1990, 5, 17)
    )
    ((code, message),) = _password_errors("Петрова17051990", personal)
    assert code == ErrorCode.WEAK_PASSWORD
    assert "ваше имя, телефон, адрес почты или дату рождения" in message
    assert _password_errors("9161234567anna", personal)


def _registration(**overrides: object) -> Registration:
    fields: dict[str, object] = {
        "phone": "+79161234567",
        "email": "anna@example.ru",
        "password": "Синий-трактор-2026",
        "last_name": "Петрова",
        "first_name": "Анна",
        "middle_name": None,
        "birth_date": dt.date(1990, 5, 17),
        "consent_to_processing": True,
        **overrides,
    }
    return Registration(**fields)  # type: ignore[arg-type]


async def test_a_registration_committed_meanwhile_is_a_duplicate_not_a_fault(
    app_services: AppServices, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an account with the phone, committed after the duplicate check of another registration ran
    await make_user(session, phone="+79161234567")
    await session.commit()

    async def check_ran_too_early(*args: object, **kwargs: object) -> list[tuple[str, str]]:
        return []

    monkeypatch.setattr(registration, "_taken", check_ran_too_early)
    # when that registration inserts its row
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as s:
            await registration.register(s, settings=app_services.settings, actor=None, data=_registration())
    # then the unique index refuses it as a duplicate, and nothing is left behind
    assert refused.value.code == ErrorCode.DUPLICATE
    async with app_services.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
