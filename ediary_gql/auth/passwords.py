"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's recommended costs (RFC 9106 low-memory)
# Verified against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


def configure(*, time_cost: int, memory_kib: int) -> None:
    """Set the hashing costs (from settings). Existing hashes still verify, and
    are re-hashed with the new costs at their next sign-in."""
    global _hasher, _DUMMY_HASH
    if (time_cost, memory_kib) == (_hasher.time_cost, _hasher.memory_cost):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
