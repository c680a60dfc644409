"""Facilitators: open the test for a cohort (window, time limit, attempts, wait, blueprint),
extra time for a named trainee, one extra attempt (audited), the cohort's attempts and scores,
and item analysis (admins: the whole bank)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Response, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import audit
from portal.authz import require
from portal.cohorts.pages import cohort_for
from portal.exams import analysis_data, bp
from portal.exams import attempts as service
from portal.exams.draw import COMPETENCIES, DEFAULT_BLUEPRINT
from portal.exams.forms import ExtraTimeForm, GrantForm, OfferingForm
from portal.extensions import db
from portal.models import (
    Attempt,
    AttemptGrant,
    Enrollment,
    EnrollmentStatus,
    ExtraTime,
    Offering,
    User,
)
from portal.web import get_or_404, redirect_to, render_page, say_here


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@bp.route("/cohorts/<int:cohort_id>/exam", methods=["GET", "POST"])
@login_required
def open_test(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_exams")
    form = OfferingForm()
    if request.method == "GET" and not form.opens_at.data:
        last = cohort.sessions[-1] if cohort.sessions else None
        if last is not None:
            form.opens_at.data = last.starts_at.replace(tzinfo=None)
            form.closes_at.data = (last.starts_at.replace(tzinfo=None)).replace(hour=23, minute=59)
    shortfall = []
    if form.validate_on_submit():
        blueprint = form.blueprint()
        required = sorted(set(form.required.data or []))
        shortfall = service.bank_shortfall(blueprint, required)
        if not shortfall:
            offering = Offering(
                kind="cohort",
                cohort_id=cohort.id,
                opens_at=_utc(form.opens_at.data),
                closes_at=_utc(form.closes_at.data),
                time_limit_minutes=form.time_limit.data or None,
                attempts_allowed=form.attempts_allowed.data,
                wait_hours=form.wait_hours.data,
                blueprint=blueprint,
                required_competencies=required,
                review_at_once=bool(form.review_at_once.data),
                created_by_id=current_user.id,
            )
            db.session.add(offering)
            db.session.flush()
            audit.record(current_user, "exam.opened", offering, cohort_id=cohort.id)
            db.session.commit()
            say_here("offering", "The test is open for this cohort in that window.")
            return redirect_to(url_for("exams.offering", offering_id=offering.id, _anchor="offering-message"))
    elif request.method == "GET":
        shortfall = service.bank_shortfall(DEFAULT_BLUEPRINT, [])
    offerings = list(
        db.session.execute(
            db.select(Offering).where(Offering.cohort_id == cohort.id).order_by(Offering.opens_at.desc())
        ).scalars()
    )
    status = 422 if form.errors or (request.method == "POST" and shortfall) else 200
    return render_page(
        "exams/open.html",
        "open_form",
        status=status,
        form=form,
        cohort=cohort,
        shortfall=shortfall,
        offerings=offerings,
        competencies=COMPETENCIES,
    )


def _trainee_choices(offering: Offering) -> list[SelectChoice]:
    rows = db.session.execute(
        db.select(User.id, User.display_name)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.cohort_id == offering.cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
        .order_by(User.display_name)
    ).all()
    return [SelectChoice(uid, name) for uid, name in rows]


def _offering_page(offering: Offering, grant_form=None, time_form=None, status=200):
    choices = _trainee_choices(offering)
    grant_form = grant_form or GrantForm()
    time_form = time_form or ExtraTimeForm()
    grant_form.grant_person.choices = choices
    time_form.time_person.choices = choices
    attempts = list(
        db.session.execute(
            db.select(Attempt).where(Attempt.offering_id == offering.id).order_by(Attempt.user_id, Attempt.number)
        ).scalars()
    )
    by_person: dict[int, list[Attempt]] = {}
    for a in attempts:
        by_person.setdefault(a.user_id, []).append(a)
    grants = dict(
        db.session.execute(
            db.select(AttemptGrant.user_id, db.func.count())
            .where(AttemptGrant.offering_id == offering.id)
            .group_by(AttemptGrant.user_id)
        ).all()
    )
    extra = dict(
        db.session.execute(
            db.select(ExtraTime.user_id, ExtraTime.minutes).where(ExtraTime.offering_id == offering.id)
        ).all()
    )
    return render_page(
        "exams/offering.html",
        None,
        status=status,
        offering=offering,
        trainees=choices,
        by_person=by_person,
        grants=grants,
        extra=extra,
        grant_form=grant_form,
        time_form=time_form,
    )


@bp.get("/exams/offerings/<int:offering_id>")
@login_required
def offering(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    require("manage_offering", offering)
    return _offering_page(offering)


@bp.post("/exams/offerings/<int:offering_id>/grant")
@login_required
def grant_attempt(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    require("manage_offering", offering)
    form = GrantForm()
    form.grant_person.choices = _trainee_choices(offering)
    if not form.validate_on_submit():
        return _offering_page(offering, grant_form=form, status=422)
    grant = AttemptGrant(offering_id=offering.id, user_id=form.grant_person.data, granted_by_id=current_user.id)
    db.session.add(grant)
    db.session.flush()
    audit.record(current_user, "exam.extra_attempt", grant, offering_id=offering.id, trainee_id=form.grant_person.data)
    db.session.commit()
    say_here("people", "One extra attempt granted.")
    return redirect_to(url_for("exams.offering", offering_id=offering.id, _anchor="people-message"))


@bp.post("/exams/offerings/<int:offering_id>/extra-time")
@login_required
def extra_time(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    require("manage_offering", offering)
    form = ExtraTimeForm()
    form.time_person.choices = _trainee_choices(offering)
    if not form.validate_on_submit():
        return _offering_page(offering, time_form=form, status=422)
    row = db.session.execute(
        db.select(ExtraTime).where(ExtraTime.offering_id == offering.id, ExtraTime.user_id == form.time_person.data)
    ).scalar_one_or_none()
    if row is None:
        row = ExtraTime(
            offering_id=offering.id,
            user_id=form.time_person.data,
            minutes=form.minutes.data,
            granted_by_id=current_user.id,
        )
        db.session.add(row)
    else:
        row.minutes = form.minutes.data
        row.granted_by_id = current_user.id
    db.session.flush()
    audit.record(
        current_user,
        "exam.extra_time",
        row,
        offering_id=offering.id,
        trainee_id=form.time_person.data,
        minutes=form.minutes.data,
    )
    db.session.commit()
    say_here("accommodations", f"{form.minutes.data} extra minutes set (from their next attempt).")
    return redirect_to(url_for("exams.offering", offering_id=offering.id, _anchor="accommodations-message"))


def _analysis_response(offering: Offering | None):
    result, rows = analysis_data.report([offering.id] if offering else None)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["item_id", "title", "week", "competency", "seen", "difficulty", "discrimination", "flags", "option_counts"]
        )
        for r in rows:
            s = r["stats"]
            writer.writerow(
                [
                    r["item"].id,
                    r["item"].title,
                    r["version"].week,
                    r["version"].competency,
                    s.seen,
                    "" if s.difficulty is None else f"{s.difficulty:.3f}",
                    "" if s.discrimination is None else f"{s.discrimination:.3f}",
                    "; ".join(s.flags),
                    " | ".join(str(o["count"]) for o in r["options"]),
                ]
            )
        writer.writerow([])
        writer.writerow(
            [
                "attempts",
                result.n,
                "mean",
                "" if result.mean is None else f"{result.mean:.2f}",
                "sd",
                "" if result.sd is None else f"{result.sd:.2f}",
                "kr20",
                "" if result.kr20 is None else f"{result.kr20:.3f}",
            ]
        )
        return Response(
            out.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=item-analysis.csv"},
        )
    return render_page("exams/analysis.html", None, result=result, rows=rows, offering=offering)


@bp.get("/exams/analysis")
@login_required
def bank_analysis():
    require("manage_item_bank")
    return _analysis_response(None)


@bp.get("/exams/offerings/<int:offering_id>/analysis")
@login_required
def offering_analysis(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    require("manage_offering", offering)
    return _analysis_response(offering)
