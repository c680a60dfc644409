"""Practice pairs: pair, swap, lock, repair."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required

from portal import inputs
from portal.cohorts import bp, roster
from portal.cohorts import dyads as dyad_service
from portal.cohorts.forms import PairForm
from portal.cohorts.pages import back_to, cohort_for, confirm_page
from portal.extensions import db
from portal.models import Cohort
from portal.web import say_here, wants_fragment


def _dyad_change(cohort: Cohort, change) -> object:
    try:
        message = change()
    except roster.RosterError as error:
        db.session.rollback()
        say_here("dyads", str(error), "error")
    else:
        db.session.commit()
        say_here("dyads", message)
    return back_to(cohort, "dyads", "dyads-message")


@bp.post("/cohorts/<int:cohort_id>/dyads/pair")
@login_required
def pair(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    existing = len(dyad_service.active_dyads(cohort.id))
    if existing and form.confirm.data != "yes" and cohort.dyads_locked_at is None:
        # Pairing again dissolves every pair: ask first, saying how many.
        text = (
            f"This replaces the {existing} current pair{'s' if existing != 1 else ''} of {cohort.name}: "
            "everyone gets a new partner, and the people already paired are told nothing until you "
            "tell them. To give partners only to people without one, use “Find partners” instead."
        )
        if wants_fragment():
            return back_to(cohort, "dyads", "dyads-message", confirm_pairing=text, pair_mode=form.mode.data)
        return confirm_page(
            title=f"Pair everyone in {cohort.name} again?",
            text=text,
            action=url_for("cohorts.pair", cohort_id=cohort.id),
            fields={"mode": form.mode.data},
            button=f"Yes, replace the {existing} pairs",
            back=url_for("cohorts.show", cohort_id=cohort.id, _anchor="dyads"),
        )

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
    first = inputs.optional_record_id(request.form.get("first"))
    second = inputs.optional_record_id(request.form.get("second"))

    def change():
        if not first or not second:
            raise roster.RosterError("Choose two people to swap.")
        if first == second:
            raise roster.RosterError("Choose two different people to swap.")
        dyad_service.swap(cohort.id, first, second, current_user)
        return "The two people swapped places."

    return _dyad_change(cohort, change)


@bp.post("/cohorts/<int:cohort_id>/dyads/lock")
@login_required
def lock_dyads(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    if request.form.get("locked") not in {"yes", "no"}:
        abort(400)
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
