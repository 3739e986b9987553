"""Password hashing (argon2id) and masking of personal data for display."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Demo data hashes thousands of passwords; these parameters keep argon2id (RFC 9106's
# low-memory profile) while a sign-in still costs tens of milliseconds.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("empty password")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def mask_phone(phone: str | None) -> str:
    """138****5678: enough to recognise a caller back, not enough to copy the number."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str:
    """张** / 欧阳**: the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
