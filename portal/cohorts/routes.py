"""Cohorts: the list, creating one, the cohort page and its settings."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import audit, inputs
from portal.authz import require, visible_cohorts
from portal.cohorts import bp, manage, roster
from portal.cohorts.forms import (
    CohortFilterForm,
    CohortForm,
    CohortSettingsForm,
)
from portal.cohorts.pages import (
    chosen_facilitators,
    cohort_for,
    facilitator_choices,
    facilitator_names,
    page_context,
)
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortStatus,
    read_rows,
    utcnow,
)
from portal.web import redirect_to, render_page, say_here

# --- list and create ------------------------------------------------------------------------


@bp.get("/cohorts")
@login_required
def index():
    require("list_cohorts")
    form = CohortFilterForm(request.args)
    form.facilitator.choices = [SelectChoice("", "Any facilitator")] + facilitator_choices()
    valid = form.validate()  # a filter with an error is not applied; its message shows
    now = utcnow()
    status = Cohort.status_expression(now)
    # Rows of the columns the list shows (each cohort's facilitators come in one query below).
    query = (
        visible_cohorts(current_user)
        .with_only_columns(Cohort.id, Cohort.name, Cohort.starts_at, Cohort.capacity, status.label("current"))
        .order_by(Cohort.starts_at.desc())
    )
    if form.status.data and not form.status.errors:
        query = query.where(status == form.status.data)
    if form.facilitator.data and not form.facilitator.errors:
        query = query.where(
            Cohort.id.in_(
                db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == form.facilitator.data)
            )
        )
    if form.month.data and not form.month.errors:
        year, month = inputs.parse_month(form.month.data)
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        query = query.where(Cohort.starts_at >= start, Cohort.starts_at < end)
    rows = read_rows(db.session, query).all()
    ids = [c.id for c in rows]
    return render_page(
        "cohorts/index.html",
        "cohort_results",
        status=200 if valid else 422,
        form=form,
        rows=rows,
        counts=roster.counts_by_cohort(ids),
        facilitators=facilitator_names(ids),
    )


@bp.route("/cohorts/new", methods=["GET", "POST"])
@login_required
def create():
    require("create_cohort")
    form = CohortForm()
    form.facilitators.choices = facilitator_choices()
    warnings: list[str] = []
    if form.validate_on_submit():
        warnings = manage.start_warnings(form.first_day.data, form.start_time.data, form.time_zone.data)
        if warnings and form.confirm.data != "yes":
            form.confirm.data = "yes"  # sent again as it is, it is created
            return render_page("cohorts/new.html", "cohort_form", status=200, form=form, warnings=warnings)
        cohort = manage.create_cohort(
            name=form.name.data.strip(),
            facilitators=chosen_facilitators(form.facilitators.data),
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
        say_here("settings", f"{cohort.name} is created with its six sessions.")
        return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="settings-message"))
    status = 422 if form.errors else 200
    return render_page("cohorts/new.html", "cohort_form", status=status, form=form, warnings=warnings)


# --- the cohort page ---------------------------------------------------------------------------


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def show(cohort_id: int):
    cohort = cohort_for(cohort_id, "view_cohort")
    block = request.args.get("part") if request.args.get("part") in {"roster", "dyads", "schedule"} else None
    return render_page("cohorts/show.html", block, **page_context(cohort))


@bp.route("/cohorts/<int:cohort_id>/settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int):
    cohort = cohort_for(cohort_id, "administer_cohort")
    form = CohortSettingsForm(obj=cohort)
    form.facilitators.choices = facilitator_choices()
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
            manage.set_facilitators(cohort, chosen_facilitators(form.facilitators.data), current_user)
            audit.record(current_user, "cohort.updated", cohort, before=before, capacity=cohort.capacity)
            db.session.commit()
            say_here(
                "settings",
                "Cohort settings saved." + (f" {len(promoted)} moved up from the waitlist." if promoted else ""),
            )
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="settings-message"))
    status = 422 if form.errors else 200
    return render_page("cohorts/settings.html", "settings_form", status=status, form=form, cohort=cohort)


# The other parts of the cohort pages register their routes on `bp`.
from portal.cohorts import dyad_routes, handout_routes, roster_routes, session_routes  # noqa: E402, F401
