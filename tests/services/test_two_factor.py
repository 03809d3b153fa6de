"""TOTP codes without GraphQL: one step either side of now, each step once."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from ediary_gql.db.models.users import User
from ediary_gql.services.two_factor import CodeCheck, accept_code, check_code

NOW = dt.datetime(2026, 11, 28, 10, 0, 15, tzinfo=dt.UTC)
SECRET = pyotp.random_base32()
TOTP = pyotp.TOTP(SECRET)


def _user() -> User:
    return User(totp_secret=SECRET, totp_enabled=True, totp_last_step=None)


def _code(seconds: int) -> str:
    return TOTP.at(NOW + dt.timedelta(seconds=seconds))


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_one_step_either_side_is_accepted(offset: int) -> None:
    assert accept_code(_user(), _code(offset), NOW)


@pytest.mark.parametrize("offset", [-60, 60])
def test_two_steps_away_is_refused(offset: int) -> None:
    code = _code(offset)
    if code not in {_code(-30), _code(0), _code(30)}:  # a six-digit coincidence is possible, if rare
        assert not accept_code(_user(), code, NOW)


def test_a_code_is_good_once_and_so_is_every_earlier_step() -> None:
    user = _user()
    assert accept_code(user, _code(0), NOW)
    assert user.totp_last_step == TOTP.timecode(NOW)
    assert not accept_code(user, _code(0), NOW)
    assert not accept_code(user, _code(-30), NOW)
    assert accept_code(user, _code(30), NOW)


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert not accept_code(_user(), code, NOW)


def test_no_secret_no_code() -> None:
    assert not accept_code(User(totp_secret=None, totp_last_step=None), _code(0), NOW)


def test_spaces_in_a_typed_code_are_ignored() -> None:
    code = _code(0)
    assert accept_code(_user(), f"{code[:3]} {code[3:]}", NOW)


def test_a_spent_code_is_told_apart_from_a_wrong_one() -> None:
    user = _user()
    assert check_code(user, _code(0), NOW) is CodeCheck.ACCEPTED
    # the same code again, or an earlier step's: right but spent
    assert check_code(user, _code(0), NOW) is CodeCheck.REUSED
    assert check_code(user, _code(-30), NOW) is CodeCheck.REUSED
    wrong = f"{(int(_code(0)) + 1) % 1_000_000:06d}"
    if wrong not in {_code(-30), _code(0), _code(30)}:
        assert check_code(user, wrong, NOW) is CodeCheck.WRONG
