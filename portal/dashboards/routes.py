"""Each role's landing page."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlalchemy.orm import joinedload

from portal.authz import role_required
from portal.cohorts import dyads as dyad_service
from portal.cohorts import handouts as handout_files
from portal.cohorts import roster
from portal.cohorts.calendar_routes import sessions_for
from portal.cohorts.schedule import countdown, join_is_open
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Role,
    Supervision,
    utcnow,
)
from portal.web import render_page

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard")


@bp.get("")
@login_required
def home():
    role = current_user.primary_role
    if role is None:
        return render_template("dashboards/no_role.html")
    return redirect(url_for(f"dashboards.{role.value}"))


@bp.get("/admin")
@role_required(Role.ADMIN)
def admin():
    now = utcnow()
    status = Cohort.status_expression(now)
    by_status = dict(db.session.execute(db.select(status, func.count(Cohort.id)).group_by(status)).all())
    cohorts = db.session.execute(
        db.select(Cohort, status.label("current"))
        .where(status.in_([CohortStatus.DRAFT.value, CohortStatus.ENROLLING.value, CohortStatus.RUNNING.value]))
        .order_by(Cohort.starts_at)
    ).all()
    upcoming = (
        db.session.execute(
            db.select(CohortSession)
            .options(joinedload(CohortSession.cohort))
            .where(
                CohortSession.starts_at >= now - timedelta(hours=2), CohortSession.starts_at < now + timedelta(days=14)
            )
            .order_by(CohortSession.starts_at)
            .limit(50)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboards/admin.html",
        by_status=by_status,
        cohorts=cohorts,
        upcoming=upcoming,
        counts=roster.counts_by_cohort([c.id for c, _ in cohorts]),
        statuses=list(CohortStatus),
    )


@bp.get("/facilitator")
@role_required(Role.FACILITATOR)
def facilitator():
    now = utcnow()
    status = Cohort.status_expression(now)
    cohorts = db.session.execute(
        db.select(Cohort, status.label("current"))
        .join(CohortFacilitator, CohortFacilitator.cohort_id == Cohort.id)
        .where(CohortFacilitator.user_id == current_user.id, status != CohortStatus.ARCHIVED.value)
        .order_by(Cohort.starts_at)
    ).all()
    this_week = [
        s for s in sessions_for(current_user) if now - timedelta(hours=2) <= s.starts_at < now + timedelta(days=7)
    ]
    return render_template(
        "dashboards/facilitator.html",
        cohorts=cohorts,
        this_week=this_week,
        counts=roster.counts_by_cohort([c.id for c, _ in cohorts]),
        now=now,
    )


@bp.get("/supervisor")
@role_required(Role.SUPERVISOR)
def supervisor():
    links = (
        db.session.execute(
            db.select(Supervision)
            .options(joinedload(Supervision.trainee))
            .where(Supervision.supervisor_id == current_user.id, Supervision.ended_at.is_(None))
        )
        .scalars()
        .all()
    )
    trainee_ids = [link.trainee_id for link in links]
    enrollments: dict[int, list[Enrollment]] = {i: [] for i in trainee_ids}
    if trainee_ids:
        for e in db.session.execute(
            db.select(Enrollment)
            .options(joinedload(Enrollment.cohort))
            .where(Enrollment.user_id.in_(trainee_ids))
            .order_by(Enrollment.added_at)
        ).scalars():
            enrollments[e.user_id].append(e)
    links = sorted(links, key=lambda link: link.trainee.display_name)
    return render_template("dashboards/supervisor.html", links=links, enrollments=enrollments, now=utcnow())


@bp.get("/trainee")
@role_required(Role.TRAINEE)
def trainee():
    now = utcnow()
    mine = (
        db.session.execute(
            db.select(Enrollment)
            .options(joinedload(Enrollment.cohort))
            .where(Enrollment.user_id == current_user.id, Enrollment.status != EnrollmentStatus.WITHDRAWN.value)
            .order_by(Enrollment.added_at.desc())
        )
        .scalars()
        .all()
    )
    enrolled = [e for e in mine if e.status == EnrollmentStatus.ENROLLED.value]
    current = next((e.cohort for e in enrolled if e.cohort.current_status(now) != CohortStatus.ARCHIVED), None)
    next_session = None
    handouts: dict[int, list[Handout]] = {}
    partners = []
    if current is not None:
        next_session = next((s for s in current.sessions if s.ends_at > now), None)
        handouts = handout_files.by_week(current.id)
        dyad = dyad_service.dyad_of(current.id, current_user.id)
        partners = [m.user for m in dyad.current_members if m.user_id != current_user.id] if dyad else []
    supervision = roster.current_supervision(current_user.id)
    return render_page(
        "dashboards/trainee.html",
        "next_session",
        cohort=current,
        waiting=[e for e in mine if e.status == EnrollmentStatus.WAITLISTED.value],
        next_session=next_session,
        handouts=handouts,
        partners=partners,
        supervisor=supervision.supervisor if supervision else None,
        now=now,
        countdown=countdown,
        join_is_open=join_is_open,
    )
