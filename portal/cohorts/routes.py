"""Cohorts: the list, creating one, the cohort page and its settings.

The other parts of a cohort have their own modules on the same blueprint, registered at the
end of this file: session_routes (the schedule), roster_routes, dyad_routes, handout_routes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import audit
from portal.authz import can, require, visible_cohorts
from portal.cohorts import dyads as dyad_service
from portal.cohorts import handouts as handout_files
from portal.cohorts import manage, roster
from portal.cohorts.curriculum import WEEKS
from portal.cohorts.forms import (
    CohortFilterForm,
    CohortForm,
    CohortSettingsForm,
    HandoutForm,
    PairForm,
    SwapForm,
)
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Role,
    Supervision,
    User,
    UserRole,
    utcnow,
)
from portal.web import get_or_404, redirect_to, render_page, wants_fragment

bp = Blueprint("cohorts", __name__)


def cohort_for(cohort_id: int, action: str) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    require(action, cohort)
    return cohort


def people_with_role(role: Role) -> list[User]:
    return list(
        db.session.execute(
            db.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.deactivated_at.is_(None))
            .order_by(User.display_name, User.id)
        ).scalars()
    )


def _facilitator_choices() -> list[SelectChoice]:
    return [SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in people_with_role(Role.FACILITATOR)]


def _chosen_facilitators(ids: list[int]) -> list[User]:
    allowed = {u.id: u for u in people_with_role(Role.FACILITATOR)}
    return [allowed[i] for i in ids if i in allowed]


# --- list and create ------------------------------------------------------------------------


@bp.get("/cohorts")
@login_required
def index():
    require("list_cohorts")
    form = CohortFilterForm(request.args)
    form.facilitator.choices = [SelectChoice("", "Any facilitator")] + _facilitator_choices()
    form.validate()
    now = utcnow()
    status = Cohort.status_expression(now)
    query = visible_cohorts(current_user).add_columns(status.label("current")).order_by(Cohort.starts_at.desc())
    if form.status.data:
        query = query.where(status == form.status.data)
    if form.facilitator.data and not form.facilitator.errors:
        query = query.where(
            Cohort.id.in_(
                db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == form.facilitator.data)
            )
        )
    if form.month.data and not form.month.errors:
        year, month = map(int, form.month.data.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        query = query.where(Cohort.starts_at >= start, Cohort.starts_at < end)
    rows = db.session.execute(query).all()
    counts = roster.counts_by_cohort([c.id for c, _ in rows])
    return render_page("cohorts/index.html", "cohort_results", form=form, rows=rows, counts=counts)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@login_required
def create():
    require("create_cohort")
    form = CohortForm()
    form.facilitators.choices = _facilitator_choices()
    if form.validate_on_submit():
        cohort = manage.create_cohort(
            name=form.name.data.strip(),
            facilitators=_chosen_facilitators(form.facilitators.data),
            first_day=form.first_day.data,
            start=form.start_time.data,
            time_zone=form.time_zone.data,
            meeting_url=form.meeting_url.data or None,
            capacity=form.capacity.data,
            notes=form.notes.data or None,
            status=CohortStatus(form.status.data),
            by=current_user,
        )
        db.session.commit()
        flash(f"{cohort.name} is created with its six sessions.", "success")
        return redirect_to(url_for("cohorts.show", cohort_id=cohort.id))
    status = 422 if form.errors else 200
    return render_page("cohorts/new.html", "cohort_form", status=status, form=form)


# --- the cohort page ---------------------------------------------------------------------------


def page_context(cohort: Cohort) -> dict:
    """Everything the cohort page shows, in a fixed number of queries whatever the roster size."""
    manager = can(current_user, "manage_cohort", cohort)
    enrollments = (
        list(
            db.session.execute(
                db.select(Enrollment)
                .where(Enrollment.cohort_id == cohort.id)
                .order_by(Enrollment.status, Enrollment.waitlisted_at, User.display_name)
                .join(User, User.id == Enrollment.user_id)
            ).scalars()
        )
        if manager
        else []
    )
    enrolled = [e for e in enrollments if e.status == EnrollmentStatus.ENROLLED.value]
    waitlisted = sorted(
        (e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED.value), key=lambda e: (e.waitlisted_at, e.id)
    )
    withdrawn = [e for e in enrollments if e.status == EnrollmentStatus.WITHDRAWN.value]
    supervisors = {}
    if manager and enrollments:
        supervisors = {
            s.trainee_id: s.supervisor
            for s in db.session.execute(
                db.select(Supervision).where(
                    Supervision.trainee_id.in_([e.user_id for e in enrollments]), Supervision.ended_at.is_(None)
                )
            ).scalars()
        }
    dyads = dyad_service.active_dyads(cohort.id) if manager else []
    my_dyad = None
    if not manager:
        my_dyad = dyad_service.dyad_of(cohort.id, current_user.id)
    handouts = handout_files.by_week(cohort.id)
    swap_form = SwapForm()
    members = [(m.user_id, m.user.display_name) for d in dyads for m in d.current_members]
    swap_form.first.choices = swap_form.second.choices = [
        SelectChoice(i, n) for i, n in sorted(members, key=lambda x: x[1])
    ]
    return {
        "cohort": cohort,
        "cohort_status": cohort.current_status(),
        "manager": manager,
        "enrolled": enrolled,
        "waitlisted": waitlisted,
        "withdrawn": withdrawn,
        "supervisors": supervisors,
        "dyads": dyads,
        "dyads_need_repair": dyad_service.needs_repair(dyads, {e.user_id for e in enrolled}),
        "my_dyad": my_dyad,
        "handouts": handouts,
        "weeks": WEEKS,
        "pair_form": PairForm(),
        "swap_form": swap_form,
        "handout_form": HandoutForm(),
        "now": utcnow(),
    }


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def show(cohort_id: int):
    cohort = cohort_for(cohort_id, "view_cohort")
    block = request.args.get("part") if request.args.get("part") in {"roster", "dyads", "schedule"} else None
    return render_page("cohorts/show.html", block, **page_context(cohort))


def back_to(cohort: Cohort, block: str, anchor: str):
    """After a change on the cohort page: the refreshed block for htmx, else the page."""
    if wants_fragment():
        return render_page("cohorts/show.html", block, **page_context(cohort))
    return redirect(url_for("cohorts.show", cohort_id=cohort.id, _anchor=anchor), code=303)


@bp.route("/cohorts/<int:cohort_id>/settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int):
    cohort = cohort_for(cohort_id, "administer_cohort")
    form = CohortSettingsForm(obj=cohort)
    form.facilitators.choices = _facilitator_choices()
    if request.method == "GET":
        form.facilitators.data = [link.user_id for link in cohort.facilitator_links]
    if form.validate_on_submit():
        try:
            promoted = roster.set_capacity(cohort, form.capacity.data, current_user)
        except roster.RosterError as error:
            db.session.rollback()
            form.capacity.errors.append(str(error))
        else:
            before = {"name": cohort.name, "status": cohort.status, "meeting_url": cohort.meeting_url}
            cohort.name = form.name.data.strip()
            cohort.meeting_url = form.meeting_url.data or None
            cohort.notes = form.notes.data or None
            cohort.status = form.status.data
            manage.set_facilitators(cohort, _chosen_facilitators(form.facilitators.data), current_user)
            audit.record(current_user, "cohort.updated", cohort, before=before, capacity=cohort.capacity)
            db.session.commit()
            flash(
                "Cohort settings saved." + (f" {len(promoted)} moved up from the waitlist." if promoted else ""),
                "success",
            )
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id))
    status = 422 if form.errors else 200
    return render_page("cohorts/settings.html", "settings_form", status=status, form=form, cohort=cohort)


# The other parts of the cohort pages register their routes on `bp`.
from portal.cohorts import dyad_routes, handout_routes, roster_routes, session_routes  # noqa: E402, F401
