"""Signed, expiring, single-use links for invitations and password resets.

The link carries an itsdangerous signature over (row id, nonce). The row keeps only a hash
of the nonce, its expiry and when it was used, so a link works once and a leaked database
does not yield working links.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from portal.extensions import db
from portal.models import Invitation, PasswordReset, User, utcnow

KINDS = {"invite": Invitation, "reset": PasswordReset}


def _serializer(kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{kind}")


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def issue(kind: str, user: User, max_age: timedelta, **extra) -> str:
    """Create the row (revoking earlier open links of the same kind) and return the token."""
    model = KINDS[kind]
    now = utcnow()
    db.session.execute(
        update(model)
        .where(model.user_id == user.id, model.used_at.is_(None), model.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    nonce = secrets.token_urlsafe(24)
    row = model(user_id=user.id, nonce_hash=_hash(nonce), created_at=now, expires_at=now + max_age, **extra)
    db.session.add(row)
    db.session.flush()
    return _serializer(kind).dumps([row.id, nonce])


def peek(kind: str, token: str, max_age: timedelta):
    """The open row a token names, or None (bad signature, expired, used or revoked)."""
    try:
        row_id, nonce = _serializer(kind).loads(token, max_age=int(max_age.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    row = db.session.get(KINDS[kind], row_id)
    if row is None or not hmac.compare_digest(row.nonce_hash, _hash(str(nonce))):
        return None
    if row.used_at or row.revoked_at or row.expires_at <= utcnow():
        return None
    return row


def consume(row) -> bool:
    """Mark the row used; False when another request used it first (not committed)."""
    model = type(row)
    result = db.session.execute(
        update(model).where(model.id == row.id, model.used_at.is_(None)).values(used_at=utcnow())
    )
    return result.rowcount == 1
