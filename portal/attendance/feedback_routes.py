"""Feedback: a trainee answers once after a session; facilitators and admins read aggregates."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_login import current_user, login_required

from portal.attendance import bp, feedback
from portal.attendance.forms import FeedbackForm
from portal.authz import require, session_of
from portal.extensions import db
from portal.jobs import periodic
from portal.models import Cohort, utcnow
from portal.web import get_or_404, redirect_to, render_page, say_here


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback_form(session_id: int):
    session = session_of(session_id)
    require("give_feedback", session)
    now = utcnow()
    due = feedback.is_due(session, current_user.id, now)
    form = FeedbackForm()
    if due and form.validate_on_submit():
        saved = feedback.answer(
            session, current_user.id, int(form.usefulness.data), form.helped.data, form.suggestion.data
        )
        db.session.commit()
        thanks = "Thank you: your feedback is saved, without your name."
        say_here("feedback", thanks if saved else "You have already answered.")
        return redirect_to(url_for("attendance.live", session_id=session.id, _anchor="feedback-message"))
    status = 422 if form.errors else 200
    return render_page("attendance/feedback.html", None, status=status, s=session, form=form, due=due,
                       done=feedback.answered(session.id, current_user.id), now=now)


@bp.get("/cohorts/<int:cohort_id>/feedback")
@login_required
def cohort_feedback(cohort_id: int):
    cohort = get_or_404(Cohort, cohort_id)
    require("view_feedback", cohort)
    weeks = [(s, feedback.aggregate([s.id])) for s in cohort.sessions]
    overall = feedback.aggregate([s.id for s in cohort.sessions])
    return render_page("attendance/cohort_feedback.html", None, cohort=cohort, weeks=weeks, overall=overall,
                       min_answers=feedback.MIN_ANSWERS)


@periodic(timedelta(minutes=10), minute="*/10")
def ask_for_feedback() -> None:
    """Every ten minutes: ask those who attended a session that has just ended (once)."""
    feedback.ask_due()
