"""Feedback after each session (no Flask requests).

Who was asked and whether they answered lives in `feedback_requests`; what they said lives in
`feedback_answers` with neither person nor time, so nobody (facilitators, admins, a research
export) can join an answer to its author. Aggregates show comments only from MIN_ANSWERS
answers on, so a comment cannot be told apart by elimination in a tiny group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import mail
from portal.extensions import db
from portal.models import (
    Attendance,
    CohortSession,
    FeedbackAnswer,
    FeedbackRequest,
    User,
    utcnow,
)
from portal.web import external_url

MIN_ANSWERS = 5
ASK_WITHIN = timedelta(days=7)  # sessions that ended longer ago are not asked about any more
ATTENDED = ("present", "late", "left_early")


def attended(session_id: int, user_id: int) -> bool:
    return (
        db.session.execute(
            select(Attendance.id).where(
                Attendance.session_id == session_id, Attendance.user_id == user_id, Attendance.status.in_(ATTENDED)
            )
        ).first()
        is not None
    )


def answered(session_id: int, user_id: int) -> bool:
    return bool(
        db.session.execute(
            select(FeedbackRequest.answered).where(
                FeedbackRequest.session_id == session_id, FeedbackRequest.user_id == user_id
            )
        ).scalar_one_or_none()
    )


def is_due(session: CohortSession, user_id: int, now: datetime) -> bool:
    """Asked (on the page) once the session has ended, of those who attended, until they answer."""
    return now >= session.ends_at and attended(session.id, user_id) and not answered(session.id, user_id)


def _insert_ignore(model, values: dict, keys: list[str]):
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    return db.session.execute(statement.returning(model.id)).scalar_one_or_none()


def answer(session: CohortSession, user_id: int, usefulness: int, helped: str | None, suggestion: str | None) -> bool:
    """Record one answer; False when the person already answered (at most once, kept by the
    database: the flag flips only from false, in the same transaction as the answer)."""
    _insert_ignore(FeedbackRequest, {"session_id": session.id, "user_id": user_id, "asked_at": utcnow()},
                   ["session_id", "user_id"])
    flipped = db.session.execute(
        update(FeedbackRequest)
        .where(
            FeedbackRequest.session_id == session.id,
            FeedbackRequest.user_id == user_id,
            FeedbackRequest.answered.is_(False),
        )
        .values(answered=True)
    ).rowcount
    if flipped != 1:
        return False
    db.session.add(FeedbackAnswer(session_id=session.id, usefulness=usefulness, helped=helped or None,
                                  suggestion=suggestion or None))
    return True


@dataclass
class Aggregate:
    count: int = 0
    average: float | None = None
    ratings: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    helped: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS

    @property
    def widest(self) -> int:
        return max(self.ratings.values()) or 1


def aggregate(session_ids: list[int]) -> Aggregate:
    """Count, average and the ratings of the sessions' answers; comments only from
    MIN_ANSWERS answers on (in a shuffled-by-text order, never the order they came in)."""
    agg = Aggregate()
    for rating, n in db.session.execute(
        select(FeedbackAnswer.usefulness, func.count()).where(FeedbackAnswer.session_id.in_(session_ids))
        .group_by(FeedbackAnswer.usefulness)
    ):
        agg.ratings[rating] = n
    agg.count = sum(agg.ratings.values())
    if agg.count:
        agg.average = round(sum(r * n for r, n in agg.ratings.items()) / agg.count, 1)
    if agg.shown:
        rows = db.session.execute(
            select(FeedbackAnswer.helped, FeedbackAnswer.suggestion).where(FeedbackAnswer.session_id.in_(session_ids))
        ).all()
        agg.helped = sorted(r.helped for r in rows if r.helped)
        agg.suggestions = sorted(r.suggestion for r in rows if r.suggestion)
    return agg


def ask_due(now: datetime | None = None) -> int:
    """The periodic task's work: everyone who attended a session that ended in the last week
    and was not asked yet gets one request row and one mail. Idempotent: the row's unique
    (session, person) is the claim, so a second run (or a second consumer) asks no one twice."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(CohortSession, Attendance.user_id, User.email, User.display_name)
        .join(Attendance, Attendance.session_id == CohortSession.id)
        .join(User, User.id == Attendance.user_id)
        .outerjoin(
            FeedbackRequest,
            (FeedbackRequest.session_id == CohortSession.id) & (FeedbackRequest.user_id == Attendance.user_id),
        )
        .where(
            FeedbackRequest.id.is_(None),
            Attendance.status.in_(ATTENDED),
            CohortSession.starts_at < now,
            CohortSession.starts_at > now - ASK_WITHIN - timedelta(hours=3),
            User.deactivated_at.is_(None),
        )
    ).all()
    asked = 0
    for session, user_id, email, name in candidates:
        if session.ends_at > now or session.ends_at < now - ASK_WITHIN:
            continue
        if _insert_ignore(FeedbackRequest, {"session_id": session.id, "user_id": user_id, "asked_at": now},
                          ["session_id", "user_id"]) is None:
            continue
        mail.send(
            email,
            f"How was week {session.week}? (two minutes, optional)",
            "mail/feedback_ask.txt",
            name=name,
            s=session,
            link=external_url("attendance.feedback_form", session_id=session.id),
        )
        asked += 1
    db.session.commit()
    return asked
