"""Rate limits without GraphQL: the sliding window kept in the database, per key and bucket."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ediary_gql.context import AppServices
from ediary_gql.db.models.users import RateLimitHit
from ediary_gql.errors import RecordedRefusal, retry_after_seconds
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import rate_limits
from ediary_gql.settings import Settings

T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
THREE_AN_HOUR = rate_limits.Limit(bucket="test:address", max_hits=3, window=HOUR, message="Слишком часто")


async def _take(app_services: AppServices, *counters: rate_limits.Counter, at: dt.datetime) -> None:
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        await rate_limits.take(session, settings=app_services.settings, counters=counters, now=at)


async def _hits(app_services: AppServices) -> list[tuple[str, str]]:
    async with app_services.session_factory() as session:
        return [(b, k) for b, k in (await session.execute(select(RateLimitHit.bucket, RateLimitHit.key))).all()]


async def test_the_request_over_the_limit_is_refused_until_the_oldest_leaves_the_window(
    app_services: AppServices,
) -> None:
    # given three requests from one address, ten minutes apart
    address = rate_limits.Counter(THREE_AN_HOUR, "203.0.113.7")
    for minutes in (0, 10, 20):
        await _take(app_services, address, at=T0 + dt.timedelta(minutes=minutes))
    # when a fourth comes at 10:30, it is refused until the first is an hour old (11:00)
    with pytest.raises(RecordedRefusal) as refused:
        await _take(app_services, address, at=T0 + dt.timedelta(minutes=30))
    assert retry_after_seconds(refused.value) == 30 * 60
    assert refused.value.errors[0].message == "Слишком часто. Повторите попытку через 30 мин (в 14:00 МСК)"
    # a refused request is not counted: at 11:00 one more goes through, and then none again
    await _take(app_services, address, at=T0 + HOUR)
    with pytest.raises(RecordedRefusal) as again:
        await _take(app_services, address, at=T0 + HOUR + dt.timedelta(seconds=1))
    assert retry_after_seconds(again.value) == 10 * 60 - 1
    assert len(await _hits(app_services)) == 4 - 1  # the 10:00 one was past the window and trimmed


async def test_counters_are_apart_by_key_and_by_bucket(app_services: AppServices) -> None:
    other_bucket = rate_limits.Limit(bucket="test:login", max_hits=3, window=HOUR, message="Иначе", field="login")
    for _ in range(3):
        await _take(app_services, rate_limits.Counter(THREE_AN_HOUR, "203.0.113.7"), at=T0)
    # another address, and the same value counted in another bucket, are not limited by it
    await _take(app_services, rate_limits.Counter(THREE_AN_HOUR, "203.0.113.8"), at=T0)
    await _take(app_services, rate_limits.Counter(other_bucket, "203.0.113.7"), at=T0)
    # a request counted by two keys is refused by the full one, naming its field, and counted by neither
    with pytest.raises(RecordedRefusal) as refused:
        await _take(
            app_services,
            rate_limits.Counter(other_bucket, "+79001234567"),
            rate_limits.Counter(THREE_AN_HOUR, "203.0.113.7"),
            at=T0,
        )
    assert refused.value.errors[0].message.startswith("Слишком часто.")
    assert refused.value.errors[0].field == ()
    assert len(await _hits(app_services)) == 5


async def test_the_stored_key_tells_nothing_of_the_address_or_login(app_services: AppServices) -> None:
    await _take(app_services, rate_limits.Counter(THREE_AN_HOUR, "anna@example.ru"), at=T0)
    [(bucket, key)] = await _hits(app_services)
    assert bucket == "test:address"
    assert len(key) == 64
    assert set(key) <= set("0123456789abcdef")  # an HMAC, not the login


async def test_no_key_or_a_zero_limit_limits_nothing(app_services: AppServices) -> None:
    off = rate_limits.Limit(bucket="test:off", max_hits=0, window=HOUR, message="Никогда")
    for _ in range(5):
        await _take(
            app_services, rate_limits.Counter(off, "203.0.113.7"), rate_limits.Counter(THREE_AN_HOUR, None), at=T0
        )
    assert await _hits(app_services) == []


def test_limits_come_from_the_settings(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={
            "register_limit_per_address": 7,
            "register_limit_window_seconds": 600,
            "password_reset_limit_per_address": 9,
            "password_reset_limit_per_login": 2,
            "password_reset_limit_window_seconds": 1800,
        }
    )
    register = rate_limits.register_per_address(tuned)
    by_address = rate_limits.password_reset_per_address(tuned)
    by_login = rate_limits.password_reset_per_login(tuned)
    assert (register.max_hits, register.window) == (7, dt.timedelta(minutes=10))
    assert (by_address.max_hits, by_login.max_hits, by_login.window) == (9, 2, dt.timedelta(minutes=30))
    assert by_login.field == "login"
    assert len({register.bucket, by_address.bucket, by_login.bucket}) == 3


def test_the_defaults_leave_room_for_many_people_behind_one_address() -> None:
    defaults = Settings(_env_file=None, secret_key="x" * 32)  # type: ignore[call-arg]
    assert defaults.register_limit_per_address >= 10
    assert defaults.password_reset_limit_per_address >= 10
    assert 1 <= defaults.password_reset_limit_per_login <= defaults.password_reset_limit_per_address


async def test_count_of_rows_stays_bounded_by_the_window(app_services: AppServices) -> None:
    # a request an hour and more after the others trims them, whatever their key
    for n in range(3):
        await _take(app_services, rate_limits.Counter(THREE_AN_HOUR, f"198.51.100.{n}"), at=T0)
    await _take(app_services, rate_limits.Counter(THREE_AN_HOUR, "198.51.100.9"), at=T0 + HOUR + HOUR)
    async with app_services.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(RateLimitHit)) == 1
