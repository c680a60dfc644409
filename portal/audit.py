"""The audit log: who changed what and when."""

from __future__ import annotations

from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, User


def record(actor: User | None, action: str, subject: Any, **details: Any) -> AuditEvent:
    """Add an event to the current transaction; it commits with the change it describes."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        action=action,
        subject_type=getattr(subject, "__tablename__", None) or str(subject),
        subject_id=getattr(subject, "id", None),
        details=details,
    )
    db.session.add(event)
    return event
