"""Practice pairs: pair, swap, lock, repair."""

from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user, login_required

from portal.cohorts import dyads as dyad_service
from portal.cohorts import roster
from portal.cohorts.forms import PairForm
from portal.cohorts.routes import back_to, bp, cohort_for
from portal.extensions import db
from portal.models import Cohort


def _dyad_change(cohort: Cohort, change) -> object:
    try:
        message = change()
    except roster.RosterError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return back_to(cohort, "dyads", "dyads")


@bp.post("/cohorts/<int:cohort_id>/dyads/pair")
@login_required
def pair(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)

    def change():
        made = dyad_service.pair_cohort(cohort.id, form.mode.data == "workplaces", current_user)
        return f"{len(made)} pairs formed" + (
            " (one is a group of three)." if any(len(d.members) == 3 for d in made) else "."
        )

    return _dyad_change(cohort, change)


@bp.post("/cohorts/<int:cohort_id>/dyads/swap")
@login_required
def swap(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    first, second = request.form.get("first", type=int), request.form.get("second", type=int)

    def change():
        if not first or not second:
            raise roster.RosterError("Choose two people to swap.")
        dyad_service.swap(cohort.id, first, second, current_user)
        return "The two people swapped places."

    return _dyad_change(cohort, change)


@bp.post("/cohorts/<int:cohort_id>/dyads/lock")
@login_required
def lock_dyads(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    locked = request.form.get("locked") == "yes"

    def change():
        dyad_service.set_locked(cohort.id, locked, current_user)
        return "The pairs are locked." if locked else "The pairs are unlocked."

    return _dyad_change(cohort, change)


@bp.post("/cohorts/<int:cohort_id>/dyads/repair")
@login_required
def repair_dyads(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")

    def change():
        n = dyad_service.repair_cohort(cohort.id, current_user)
        return (
            f"{n} new pair{'s' if n != 1 else ''} formed; the other pairs stay as they were."
            if n
            else "Everyone has a partner."
        )

    return _dyad_change(cohort, change)
