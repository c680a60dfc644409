"""Each role's landing page."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Integer, bindparam, func, literal, union_all
from sqlalchemy.orm import selectinload

from portal.authz import can, current_cohort, current_places, require, session_scope
from portal.cohorts import handouts as handout_files
from portal.cohorts import roster
from portal.cohorts.schedule import countdown, join_is_open
from portal.dashboards import bp
from portal.extensions import db
from portal.messages import core as message_reports
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    CohortStatus,
    Dyad,
    DyadMember,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Supervision,
    User,
    read_rows,
    utcnow,
)
from portal.models.base import UTCDateTime
from portal.web import render_page, wants_fragment

# Dashboards only read: they select the columns their cards show (rows with attributes),
# not whole objects with every relationship the models load by default.


@bp.get("")
@login_required
def home():
    require("own_account")
    role = current_user.primary_role
    if role is None:
        return render_template("dashboards/no_role.html")
    return redirect(url_for(f"dashboards.{role.value}"))


def _cohort_rows(where, status):
    return (
        db.select(Cohort.id, Cohort.name, Cohort.starts_at, Cohort.capacity, status.label("current"))
        .where(*where)
        .order_by(Cohort.starts_at)
    )


def _session_rows(*where, limit=None):
    """Sessions with their cohort's name and meeting room, in time order."""
    return (
        db.select(
            CohortSession.id,
            CohortSession.cohort_id,
            CohortSession.week,
            CohortSession.starts_at,
            CohortSession.duration_minutes,
            func.coalesce(CohortSession.meeting_url, Cohort.meeting_url).label("join_url"),
            Cohort.name.label("cohort_name"),
        )
        .join(Cohort, Cohort.id == CohortSession.cohort_id)
        .where(*where)
        .order_by(CohortSession.starts_at)
        .limit(limit)
    )


# The landing pages' statements are built once, with the time and the person as bind
# parameters: building a statement costs more than running it on the dashboards' small tables.
_NOW = bindparam("now", type_=UTCDateTime)
_SINCE = bindparam("since", type_=UTCDateTime)  # sessions that started up to two hours ago
_UNTIL = bindparam("until", type_=UTCDateTime)
_UID = bindparam("uid", type_=Integer)
_OPEN = (CohortStatus.DRAFT.value, CohortStatus.ENROLLING.value, CohortStatus.RUNNING.value)


@functools.cache
def _admin_statements():
    status = Cohort.status_expression(_NOW)
    return (
        db.select(status, func.count(Cohort.id)).group_by(status),
        _cohort_rows([status.in_(_OPEN)], status),
        _session_rows(CohortSession.starts_at >= _SINCE, CohortSession.starts_at < _UNTIL, limit=50),
    )


@functools.cache
def _facilitator_statements():
    status = Cohort.status_expression(_NOW)
    mine = db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == _UID)
    return (
        _cohort_rows([Cohort.id.in_(mine), status != CohortStatus.ARCHIVED.value], status),
        # The person's sessions (authz.session_scope) in the coming week.
        _session_rows(session_scope(_UID), CohortSession.starts_at >= _SINCE, CohortSession.starts_at < _UNTIL),
    )


@bp.get("/admin")
@login_required
def admin():
    require("dashboard", "admin")
    now = utcnow()
    by_status_query, cohorts_query, upcoming_query = _admin_statements()
    times = {"now": now, "since": now - timedelta(hours=2), "until": now + timedelta(days=14)}
    by_status = dict(read_rows(db.session, by_status_query, times).all())
    cohorts = read_rows(db.session, cohorts_query, times).all()
    upcoming = read_rows(db.session, upcoming_query, times).all()
    return render_template(
        "dashboards/admin.html",
        by_status=by_status,
        cohorts=cohorts,
        upcoming=upcoming,
        counts=roster.counts_by_cohort([c.id for c in cohorts]),
        statuses=list(CohortStatus),
        open_message_reports=message_reports.open_report_count(),
    )


@bp.get("/facilitator")
@login_required
def facilitator():
    require("dashboard", "facilitator")
    now = utcnow()
    cohorts_query, sessions_query = _facilitator_statements()
    parameters = {"now": now, "since": now - timedelta(hours=2), "until": now + timedelta(days=7)}
    parameters["uid"] = current_user.id
    cohorts = read_rows(db.session, cohorts_query, parameters).all()
    this_week = read_rows(db.session, sessions_query, parameters).all()
    join_open = {
        s.id
        for s in this_week
        if s.join_url and join_is_open(s.starts_at, s.starts_at + timedelta(minutes=s.duration_minutes), now)
    }
    return render_template(
        "dashboards/facilitator.html",
        cohorts=cohorts,
        this_week=this_week,
        join_open=join_open,
        counts=roster.counts_by_cohort([c.id for c in cohorts]),
        now=now,
    )


@bp.get("/supervisor")
@login_required
def supervisor():
    require("dashboard", "supervisor")
    links = sorted(
        db.session.execute(
            db.select(Supervision.trainee_id, User.display_name)
            .join(User, User.id == Supervision.trainee_id)
            .where(Supervision.supervisor_id == current_user.id, Supervision.ended_at.is_(None))
        ).all(),
        key=lambda link: link.display_name,
    )
    trainee_ids = [link.trainee_id for link in links]
    enrollments: dict[int, list] = {i: [] for i in trainee_ids}
    if trainee_ids:
        for e in db.session.execute(
            db.select(Enrollment.user_id, Enrollment.status, Cohort.name, Cohort.starts_at, Cohort.ends_at)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .where(Enrollment.user_id.in_(trainee_ids))
            .order_by(Enrollment.added_at)
        ):
            enrollments[e.user_id].append(e)
    return render_template("dashboards/supervisor.html", links=links, enrollments=enrollments, now=utcnow())


@dataclass(frozen=True)
class NextSession:
    id: int
    starts_at: datetime
    ends_at: datetime
    join_url: str | None


def _next_session(user_id: int, now: datetime) -> NextSession | None:
    """The person's next session (not ended) in the cohorts they are enrolled in and that are
    not archived, as the full dashboard finds it, from one query of a few columns."""
    upcoming = []
    rows = read_rows(db.session, _trainee_statements()[1], {"uid": user_id})
    for sid, starts_at, minutes, own_url, cohort_url in rows:
        ends_at = starts_at + timedelta(minutes=minutes)
        if ends_at > now:
            upcoming.append(NextSession(sid, starts_at, ends_at, own_url or cohort_url))
    return min(upcoming, key=lambda s: s.starts_at, default=None)


@functools.cache
def _trainee_statements():
    """Built once: the trainee's contacts (their partners in the cohorts `ids`, then their
    supervisor, in one statement: `kind` tells them apart) and their sessions."""
    my_dyads = db.select(DyadMember.dyad_id).where(DyadMember.user_id == _UID, DyadMember.left_at.is_(None))
    partners = (
        db.select(
            literal("partner").label("kind"),
            Dyad.cohort_id,
            User.display_name,
            User.email,
            User.phone,
            User.shares_contact,
            DyadMember.id.label("n"),
        )
        .join(DyadMember, DyadMember.user_id == User.id)
        .join(Dyad, Dyad.id == DyadMember.dyad_id)
        .where(
            Dyad.cohort_id.in_(bindparam("ids", expanding=True)),
            Dyad.dissolved_at.is_(None),
            Dyad.id.in_(my_dyads),
            DyadMember.left_at.is_(None),
            DyadMember.user_id != _UID,
        )
    )
    supervisor = (
        db.select(
            literal("supervisor").label("kind"),
            literal(None, Integer).label("cohort_id"),
            User.display_name,
            User.email,
            User.phone,
            User.shares_contact,
            Supervision.id.label("n"),
        )
        .join(Supervision, Supervision.supervisor_id == User.id)
        .where(Supervision.trainee_id == _UID, Supervision.ended_at.is_(None))
    )
    contacts = union_all(partners, supervisor).order_by("kind", "n")
    sessions = (
        db.select(
            CohortSession.id,
            CohortSession.starts_at,
            CohortSession.duration_minutes,
            CohortSession.meeting_url,
            Cohort.meeting_url,
        )
        .join(Cohort, Cohort.id == CohortSession.cohort_id)
        .join(Enrollment, Enrollment.cohort_id == Cohort.id)
        .where(
            Enrollment.user_id == _UID,
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
            Cohort.status != CohortStatus.ARCHIVED.value,
        )
    )
    return contacts, sessions


@bp.get("/trainee")
@login_required
def trainee():
    require("dashboard", "trainee")
    now = utcnow()
    me = current_user.id
    if wants_fragment():  # the next-session card refreshing itself (every minute)
        next_session = _next_session(me, now)
        # Only the countdown line (and the join button when it appears or goes): the element
        # that holds a keyboard user's focus is never replaced by the minute's refresh.
        join_now = bool(
            next_session and next_session.join_url and join_is_open(next_session.starts_at, next_session.ends_at, now)
        )
        join_changed = request.args.get("join") != ("1" if join_now else "0")
        return render_page(
            "dashboards/trainee.html",
            "countdown",
            status=200 if next_session else 286,  # 286: htmx stops refreshing
            next_session=next_session,
            now=now,
            countdown=countdown,
            join_changed=join_changed,
        )
    places = current_places(current_user)
    enrolled = EnrollmentStatus.ENROLLED.value
    # Every cohort the person takes part in (a make-up, a retake: two at once), newest first;
    # `cohort` is the first of them (authz.current_cohort).
    taking_part = [c for status, c in places if status == enrolled and c.current_status(now) != CohortStatus.ARCHIVED]
    current = current_cohort(places, now)
    upcoming = sorted((s for c in taking_part for s in c.sessions if s.ends_at > now), key=lambda s: s.starts_at)
    next_session = upcoming[0] if upcoming else None
    context = {
        "cohort": current,
        "cohorts": taking_part,
        "waiting": [c for status, c in places if status == EnrollmentStatus.WAITLISTED.value],
        "next_session": next_session,
        "now": now,
        "countdown": countdown,
    }
    handouts: dict[int, dict[int, list[Handout]]] = {}
    partners: dict[int, list] = {}
    supervisor = None
    if taking_part:
        handouts = {c.id: handout_files.by_week(c.id) for c in taking_part}
    ids = [c.id for c in taking_part]
    for row in read_rows(db.session, _trainee_statements()[0], {"uid": me, "ids": ids}):
        if row.kind == "partner":
            partners.setdefault(row.cohort_id, []).append(row)
        elif supervisor is None:
            supervisor = row
    from portal.attendance import dashboard as attendance_card
    from portal.certification.pages import status_of

    attendance = attendance_card.trainee_context(me, current.id if current else None, now)
    return render_page(
        "dashboards/trainee.html",
        "next_session",
        **context,
        **attendance,
        whats_left=status_of(current_user, current, attendance["attendance_hours"]),
        handouts=handouts,
        partners=partners,
        supervisor=supervisor,
    )


@bp.get("/trainees/<int:user_id>")
@login_required
def progress(user_id: int):
    """One trainee's progress: their cohorts and places, and where their oral exam and
    competencies are seen (what each viewer may open)."""
    from portal.web import get_or_404

    trainee = get_or_404(User, user_id)
    require("view_trainee_progress", trainee)
    places = db.session.execute(
        db.select(Enrollment.status, Cohort.id, Cohort.name, Cohort.starts_at, Cohort.ends_at)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(Enrollment.user_id == trainee.id)
        .order_by(Cohort.starts_at)
    ).all()
    # The cohorts whose assessment page this viewer runs (facilitators, admins).
    assessed = [
        cohort
        for cohort in db.session.execute(
            db.select(Cohort)
            .where(Cohort.id.in_([p.id for p in places if p.status == "enrolled"]))
            .options(selectinload(Cohort.facilitator_links))  # the check below reads them for each
        ).scalars()
        if can(current_user, "view_assessment", cohort)
    ]
    return render_template("dashboards/progress.html", trainee=trainee, places=places, assessed=assessed)
