"""What attendance adds to the trainee dashboard (no Flask requests): hours toward the twelve
in the current cohort, and the sessions whose feedback is due. A fixed number of queries."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, or_, select

from portal.attendance import feedback, hours
from portal.extensions import db
from portal.models import Attendance, Cohort, CohortSession, FeedbackRequest, read_rows
from portal.models.base import UTCDateTime


@dataclass(frozen=True)
class FeedbackDue:
    session_id: int
    week: int
    title: str
    cohort_name: str


def feedback_due(user_id: int, now: datetime) -> list[FeedbackDue]:
    """Sessions (own or make-up) that ended in the last week, that the person attended and
    has not given feedback on yet (the same rule as feedback.is_due): one query."""
    parameters = {"uid": user_id, "now": now, "since": now - feedback.ASK_WITHIN - timedelta(hours=12)}
    rows = read_rows(db.session, _feedback_due_statement(), parameters).all()
    out = []
    for sid, week, title, starts_at, duration, cohort_name in rows:
        ends_at = starts_at + timedelta(minutes=duration)
        if ends_at <= now and ends_at >= now - feedback.ASK_WITHIN:
            out.append(FeedbackDue(sid, week, title, cohort_name))
    return out


@functools.cache
def _feedback_due_statement():
    """Built once (every trainee dashboard runs it): the person (`uid`) and the times are
    parameters."""
    uid = bindparam("uid", type_=Integer)
    return (
        select(
            CohortSession.id,
            CohortSession.week,
            CohortSession.title,
            CohortSession.starts_at,
            CohortSession.duration_minutes,
            Cohort.name,
        )
        .join(Cohort, Cohort.id == CohortSession.cohort_id)
        .join(Attendance, (Attendance.session_id == CohortSession.id) & (Attendance.user_id == uid))
        .outerjoin(
            FeedbackRequest,
            (FeedbackRequest.session_id == CohortSession.id) & (FeedbackRequest.user_id == uid),
        )
        .where(
            Attendance.status.in_(feedback.ATTENDED),
            or_(FeedbackRequest.id.is_(None), FeedbackRequest.answered.is_(False)),
            CohortSession.starts_at < bindparam("now", type_=UTCDateTime),
            CohortSession.starts_at > bindparam("since", type_=UTCDateTime),
        )
        .order_by(CohortSession.starts_at)
    )


def trainee_context(user_id: int, cohort_id: int | None, now: datetime) -> dict:
    """`attendance_hours` (a hours.Summary, or None without a cohort) and `feedback_due`."""
    summary = hours.summary(db.session, user_id, cohort_id) if cohort_id is not None else None
    return {"attendance_hours": summary, "feedback_due": feedback_due(user_id, now)}
