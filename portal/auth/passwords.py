"""Password hashing (scrypt, through Werkzeug) and the password policy."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256
HASH_METHOD = "scrypt"  # Werkzeug's scrypt: n=2**15, r=8, p=1


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps a sign-in for an unknown email as slow as a real one.
    Made on first use, not at import (every worker would pay a scrypt run to start)."""
    return generate_password_hash("not-a-real-password-ever", method=HASH_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of public breaches.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """A sentence saying what is wrong with a new password, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A short sentence you can remember works well."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.lower()
    if folded in _common_passwords() or len(set(folded)) < 4:
        return "This password is too common or too easy to guess. Try a few unrelated words."
    if email and folded.strip() in {email.lower(), email.split("@")[0].lower()}:
        return "Do not use your email address as your password."
    return _strength_problem(password, email)


MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable" (about 10^8 guesses and more)


def _strength_problem(password: str, email: str | None) -> str | None:
    """zxcvbn's estimate (dictionary words, keyboard patterns, sequences, dates, repeats),
    with its own advice as the reason. Only the first 100 characters are scored: beyond
    that zxcvbn gets slow and no password is weak."""
    from zxcvbn import zxcvbn

    hints = [email, email.split("@")[0]] if email else []
    result = zxcvbn(password[:100], user_inputs=hints + ["peer", "support", "certification", "portal"])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    advice = " ".join(filter(None, [feedback.get("warning"), *(feedback.get("suggestions") or [])[:1]]))
    return ("This password is too easy to guess. " + (advice or "Add a few more unrelated words.")).strip()
