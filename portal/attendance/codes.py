"""Rotating check-in codes: six digits from a per-session secret and the minute (no Flask).

code = HMAC-SHA256(secret, "<session id>:<step>") read as a number, mod 10**6, where
step = whole periods of ROTATE_SECONDS since the epoch. The code on the screen changes every
60 seconds; the one before it is still accepted for GRACE_SECONDS after the change (someone
typing it as it turns over is not refused). Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

ROTATE_SECONDS = 60
GRACE_SECONDS = 20
DIGITS = 6


def new_secret() -> str:
    return secrets.token_hex(20)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // ROTATE_SECONDS


def code_at(secret: str, session_id: int, step: int) -> str:
    mac = hmac.new(bytes.fromhex(secret), f"{session_id}:{step}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def current(secret: str, session_id: int, now: datetime) -> str:
    return code_at(secret, session_id, step_of(now))


def seconds_left(now: datetime) -> int:
    """Until the code on the screen changes."""
    return ROTATE_SECONDS - int(now.timestamp()) % ROTATE_SECONDS


def normalise(typed: str | None) -> str:
    """What a person typed, without spaces or dashes ("123 456" and "123-456" work)."""
    return "".join(c for c in (typed or "") if c not in " -\u00a0")


def accepts(secret: str, session_id: int, typed: str | None, now: datetime) -> bool:
    """The current code, or the previous one within the grace period after it changed."""
    typed = normalise(typed)
    if len(typed) != DIGITS or not typed.isascii() or not typed.isdigit():
        return False
    step = step_of(now)
    ok = hmac.compare_digest(typed, code_at(secret, session_id, step))
    into_step = int(now.timestamp()) % ROTATE_SECONDS
    if into_step < GRACE_SECONDS:
        ok = hmac.compare_digest(typed, code_at(secret, session_id, step - 1)) or ok
    return ok
