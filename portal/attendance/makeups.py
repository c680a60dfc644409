"""Make-ups: a trainee attends the same week in another cohort (no Flask requests). An
accepted request puts the person on that one session's roll; it never adds them to the other
cohort's roster, pairs or board. Both sides hear of each step by mail (the outbox)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import audit, mail
from portal.attendance.forms import DecisionForm, MakeupForm
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortSession,
    CohortStatus,
    MakeupRequest,
    MakeupStatus,
    User,
    utcnow,
)
from portal.web import external_url

OPEN_STATUSES = (CohortStatus.ENROLLING, CohortStatus.RUNNING)

__all__ = ["DecisionForm", "MakeupForm", "options_for", "ask", "decide", "pending_for", "progress_context"]


def options_for(cohort_id: int, now=None) -> list[CohortSession]:
    """Sessions of other cohorts that are open for a make-up: the cohort is enrolling or
    running, and the session has not ended (two queries)."""
    now = now or utcnow()
    sessions = db.session.execute(
        select(CohortSession)
        .options(joinedload(CohortSession.cohort))
        .join(Cohort, Cohort.id == CohortSession.cohort_id)
        .where(
            CohortSession.cohort_id != cohort_id,
            Cohort.status_expression(now).in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(CohortSession.week, CohortSession.starts_at)
    ).scalars()
    return [s for s in sessions if s.ends_at > now]


def ask(user: User, own_cohort_id: int, host: CohortSession, now=None) -> tuple[MakeupRequest | None, str]:
    """A request for `host` standing in for the same week of the person's own cohort."""
    now = now or utcnow()
    if host.cohort_id == own_cohort_id or host.ends_at <= now:
        return None, "Choose a session of another cohort that has not happened yet."
    own = db.session.execute(
        select(CohortSession).where(CohortSession.cohort_id == own_cohort_id, CohortSession.week == host.week)
    ).scalar_one()
    existing = db.session.execute(
        select(MakeupRequest).where(MakeupRequest.user_id == user.id, MakeupRequest.host_session_id == host.id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, "You have already asked to join that session."
    request_ = MakeupRequest(user_id=user.id, own_session_id=own.id, host_session_id=host.id, created_at=now)
    db.session.add(request_)
    db.session.flush()
    audit.record(user, "makeup.requested", request_, host_session_id=host.id, own_session_id=own.id)
    for facilitator in host.cohort.facilitators:
        mail.send(
            facilitator.email,
            f"Make-up request: week {host.week} of {host.cohort.name}",
            "mail/makeup_requested.txt",
            facilitator=facilitator,
            trainee=user,
            host=host,
            link=external_url("attendance.roll_page", session_id=host.id, _anchor="makeups"),
        )
    return request_, f"Asked to join week {host.week} of {host.cohort.name}. You will hear back by email."


def decide(request_: MakeupRequest, accept: bool, by: User, now=None) -> str:
    if request_.status != MakeupStatus.PENDING.value:
        return "That request has already been answered."
    if accept and not _takes_part(request_):
        close_for_withdrawal(request_.user_id, request_.own_session.cohort_id, by, now)
        return f"{request_.user.display_name} no longer takes part in their cohort: the request is closed."
    request_.status = (MakeupStatus.ACCEPTED if accept else MakeupStatus.DECLINED).value
    request_.decided_at, request_.decided_by_id = now or utcnow(), by.id
    audit.record(by, f"makeup.{request_.status}", request_, user_id=request_.user_id)
    host = request_.host_session
    mail.send(
        request_.user.email,
        f"Your make-up request was {request_.status}",
        "mail/makeup_decided.txt",
        trainee=request_.user,
        host=host,
        accepted=accept,
        link=external_url("attendance.live", session_id=host.id) if accept else external_url("attendance.progress"),
    )
    return f"{request_.user.display_name}: make-up {request_.status}."


def standing():
    """SQL condition on MakeupRequest: accepted, and its person still takes part in their own
    cohort (a withdrawal ends what a make-up gave: the other session's roll and live page)."""
    from sqlalchemy import exists

    from portal.models import Enrollment, EnrollmentStatus

    return (MakeupRequest.status == MakeupStatus.ACCEPTED.value) & exists(
        select(Enrollment.id)
        .join(CohortSession, CohortSession.cohort_id == Enrollment.cohort_id)
        .where(
            CohortSession.id == MakeupRequest.own_session_id,
            Enrollment.user_id == MakeupRequest.user_id,
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
        )
    )


def _takes_part(request_: MakeupRequest) -> bool:
    from portal.models import Enrollment, EnrollmentStatus

    status = db.session.execute(
        select(Enrollment.status).where(
            Enrollment.cohort_id == request_.own_session.cohort_id, Enrollment.user_id == request_.user_id
        )
    ).scalar_one_or_none()
    return status == EnrollmentStatus.ENROLLED.value


def close_for_withdrawal(user_id: int, cohort_id: int, by: User, now=None) -> int:
    """A trainee withdrawn from their cohort: their pending make-up requests (for that
    cohort's weeks) are declined, audited. Accepted ones stop counting as a place on the other
    roll (authz: a make-up guest must still take part in their own cohort). Returns how many."""
    pending = db.session.execute(
        select(MakeupRequest)
        .join(CohortSession, CohortSession.id == MakeupRequest.own_session_id)
        .where(
            MakeupRequest.user_id == user_id,
            CohortSession.cohort_id == cohort_id,
            MakeupRequest.status == MakeupStatus.PENDING.value,
        )
    ).scalars().all()
    for request_ in pending:
        request_.status = MakeupStatus.DECLINED.value
        request_.decided_at, request_.decided_by_id = now or utcnow(), by.id
        audit.record(by, "makeup.declined", request_, user_id=user_id, reason="withdrawn from their cohort")
    return len(pending)


def pending_for(host_session_id: int) -> list[MakeupRequest]:
    return list(
        db.session.execute(
            select(MakeupRequest)
            .where(MakeupRequest.host_session_id == host_session_id, MakeupRequest.status == MakeupStatus.PENDING.value)
            .order_by(MakeupRequest.created_at)
        ).scalars()
    )


def mine(user_id: int) -> list[MakeupRequest]:
    return list(
        db.session.execute(
            select(MakeupRequest)
            .options(joinedload(MakeupRequest.host_session).joinedload(CohortSession.cohort))
            .where(MakeupRequest.user_id == user_id)
            .order_by(MakeupRequest.created_at.desc())
        ).scalars()
    )


def progress_context(user: User, enrollment) -> dict:
    if enrollment is None:
        return {"makeup_options": [], "makeup_form": None, "my_requests": []}
    asked = mine(user.id)
    taken = {r.host_session_id for r in asked}
    options = [s for s in options_for(enrollment.cohort_id) if s.id not in taken]
    return {"makeup_options": options, "makeup_form": MakeupForm(), "my_requests": asked}
