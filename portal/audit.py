"""The audit log: who changed what and when."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, User

# Set while something other than a person writes events (the demo seed): those events name it
# ("demo data") instead of the account the code acted through.
_origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)

ORIGINS = {"demo": "Demo data"}


@contextmanager
def written_by(origin: str) -> Iterator[None]:
    """Events recorded inside this block are attributed to `origin` (a key of ORIGINS), not
    to a person."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def _cohort_of(subject: Any, details: dict[str, Any]) -> int | None:
    """The cohort an event belongs to, for the log's cohort filter."""
    if getattr(subject, "__tablename__", None) == "cohorts":
        return getattr(subject, "id", None)
    for value in (details.get("cohort_id"), getattr(subject, "cohort_id", None)):
        if isinstance(value, int):
            return value
    session_id = details.get("session_id")
    if session_id is None and getattr(subject, "__tablename__", None) == "cohort_sessions":
        session_id = getattr(subject, "id", None)
    if isinstance(session_id, int):
        from portal.models import CohortSession

        return db.session.execute(
            db.select(CohortSession.cohort_id).where(CohortSession.id == session_id)
        ).scalar_one_or_none()
    return None


def record(actor: User | None, action: str, subject: Any, **details: Any) -> AuditEvent:
    """Add an event to the current transaction; it commits with the change it describes."""
    origin = _origin.get()
    event = AuditEvent(
        actor_id=actor.id if origin is None and actor is not None and getattr(actor, "id", None) else None,
        action=action,
        subject_type=getattr(subject, "__tablename__", None) or str(subject),
        subject_id=getattr(subject, "id", None),
        details=details,
        cohort_id=_cohort_of(subject, details),
        origin=origin,
    )
    db.session.add(event)
    return event
