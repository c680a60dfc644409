"""Supervisors: the people they supervise, and confirming or declining competencies."""

from __future__ import annotations

from flask import abort, current_app, url_for
from flask_login import current_user, login_required

from portal.assessment import bp, competencies, oral_exam
from portal.assessment.forms import ConfirmForm, DeclineForm, RemindersForm, UnsubscribeForm
from portal.authz import require, visible_supervisees
from portal.extensions import db
from portal.models import Cohort, Enrollment, EnrollmentStatus, User
from portal.web import get_or_404, redirect_to, render_page, say_here


@bp.get("/supervision")
@login_required
def supervision():
    require("supervise")
    return _supervision_page()


def _supervision_page(reminders_form=None, status=200):
    trainees = db.session.execute(visible_supervisees(current_user).with_only_columns(User.id, User.display_name)).all()
    ids = [t.id for t in trainees]
    standings = competencies.standings(ids)
    latest = oral_exam.latest_results(ids)
    cohorts: dict[int, list[str]] = {}
    if ids:
        for user_id, name in db.session.execute(
            db.select(Enrollment.user_id, Cohort.name)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .where(Enrollment.user_id.in_(ids), Enrollment.status == EnrollmentStatus.ENROLLED.value)
        ):
            cohorts.setdefault(user_id, []).append(name)
    waiting = {t.id: competencies.waiting(standings[t.id]) for t in trainees}
    ordered = sorted(trainees, key=lambda t: (not waiting[t.id], t.display_name))
    return render_page(
        "assessment/supervision.html",
        trainees=ordered,
        standings=standings,
        waiting=waiting,
        latest=latest,
        cohorts=cohorts,
        required=competencies.REQUIRED,
        notices=competencies.notices_for(current_user.id),
        gets_reminders=competencies.gets_reminders(current_user.id),
        reminders_form=reminders_form or RemindersForm(formdata=None),
        status=status,
    )


@bp.post("/supervision/reminders")
@login_required
def reminders():
    """Stop or restart the weekly reminder (the week-6 notice is not affected)."""
    require("supervise")
    form = RemindersForm()
    if not form.validate_on_submit():
        return _supervision_page(reminders_form=form, status=422)
    wanted = form.reminders.data == "on"
    changed = competencies.set_reminders(current_user.id, wanted)
    db.session.commit()
    if not changed:
        say_here("reminders", "Nothing changed.", "info")
    elif wanted:
        say_here("reminders", "You will get the weekly reminder again while confirmations wait for you.")
    else:
        say_here("reminders", "Weekly reminders stopped. You will still be told when someone reaches week 6.")
    return redirect_to(url_for("assessment.supervision", _anchor="reminders-message"))


# --- the unsubscribe link of the weekly reminder: the signed token is the credential, signed
# in or not (the form's CSRF token comes from the confirmation page's own session) -------------


def _token_supervisor(token: str) -> User:
    supervisor_id = competencies.supervisor_of_token(current_app.secret_key, token)
    supervisor = db.session.get(User, supervisor_id) if supervisor_id is not None else None
    if supervisor is None:
        abort(404)
    return supervisor


@bp.get("/reminders/unsubscribe/<token>")
def unsubscribe(token: str):
    supervisor = _token_supervisor(token)
    return render_page(
        "assessment/unsubscribe.html",
        token=token,
        supervisor=supervisor,
        subscribed=competencies.gets_reminders(supervisor.id),
        form=UnsubscribeForm(formdata=None),
    )


@bp.post("/reminders/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    supervisor = _token_supervisor(token)
    form = UnsubscribeForm()
    if not form.validate_on_submit():
        abort(400)
    competencies.set_reminders(supervisor.id, False)
    db.session.commit()
    say_here(
        "reminders",
        "Unsubscribed: no more weekly reminders. "
        "You will still be told once when someone you supervise reaches week 6.",
    )
    return redirect_to(url_for("assessment.unsubscribe", token=token, _anchor="reminders-message"))


def _supervisee_page(trainee: User, confirm_form=None, decline_form=None, status=200):
    return render_page(
        "assessment/supervisee.html",
        "competencies",
        status=status,
        trainee=trainee,
        standings=competencies.standings([trainee.id])[trainee.id],
        history=competencies.history(trainee.id),
        latest=oral_exam.latest_results([trainee.id]).get(trainee.id),
        confirm_form=confirm_form or ConfirmForm(formdata=None),
        decline_form=decline_form or DeclineForm(formdata=None),
        locked=competencies.certificate_issued(trainee.id),
    )


def _supervisee(trainee_id: int) -> User:
    trainee = get_or_404(User, trainee_id)
    require("confirm_competencies", trainee)
    return trainee


@bp.get("/supervision/<int:trainee_id>")
@login_required
def supervisee(trainee_id: int):
    return _supervisee_page(_supervisee(trainee_id))


@bp.post("/supervision/<int:trainee_id>/confirm")
@login_required
def confirm(trainee_id: int):
    trainee = _supervisee(trainee_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _supervisee_page(trainee, confirm_form=form, status=422)
    return _decide(trainee, form.competencies.data, competencies.CONFIRMED, form.evidence.data, form, "confirm")


@bp.post("/supervision/<int:trainee_id>/decline")
@login_required
def decline(trainee_id: int):
    trainee = _supervisee(trainee_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _supervisee_page(trainee, decline_form=form, status=422)
    return _decide(trainee, [form.competency.data], competencies.DECLINED, form.reason.data, form, "decline")


def _decide(trainee: User, numbers, status, note, form, which):
    try:
        changed = competencies.decide(trainee.id, numbers, status, note, current_user)
    except competencies.NotSupervisor:
        db.session.rollback()
        abort(403)
    except competencies.CompetencyError as error:
        db.session.rollback()
        (form.competencies if which == "confirm" else form.competency).errors.append(str(error))
        kwargs = {"confirm_form": form} if which == "confirm" else {"decline_form": form}
        return _supervisee_page(trainee, status=422, **kwargs)
    db.session.commit()
    if not changed:
        say_here(which, "Nothing changed: those answers were already given.", "info")
    elif status == competencies.CONFIRMED:
        say_here(which, f"Confirmed: {', '.join(str(n) for n in changed)}.")
    else:
        say_here(which, f"Declined: {', '.join(str(n) for n in changed)}. {trainee.display_name} can read your reason.")
    return redirect_to(url_for("assessment.supervisee", trainee_id=trainee.id, _anchor=f"{which}-message"))
