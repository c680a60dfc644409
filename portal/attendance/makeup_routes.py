"""Make-ups: a trainee asks (from their progress page); the other cohort's facilitator answers
(on that session's roll)."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required

from portal.attendance import bp, makeups
from portal.attendance.forms import DecisionForm, MakeupForm
from portal.authz import current_enrollment, require, session_of
from portal.extensions import db
from portal.models import MakeupRequest
from portal.web import get_or_404, redirect_to, say_here


@bp.post("/sessions/<int:session_id>/makeup")
@login_required
def request_makeup(session_id: int):
    """Ask to attend this session (of another cohort) for the same week of one's own."""
    host = session_of(session_id)
    require("request_makeup", host)
    enrollment = current_enrollment(current_user)
    form = MakeupForm()
    if form.validate_on_submit():
        request_, message = makeups.ask(current_user, enrollment.cohort_id, host)
        db.session.commit()
        say_here("makeups", message, "success" if request_ is not None else "error")
    return redirect_to(url_for("attendance.progress", _anchor="makeups-message"))


@bp.post("/makeups/<int:request_id>/decide")
@login_required
def decide_makeup(request_id: int):
    request_ = get_or_404(MakeupRequest, request_id)
    require("decide_makeup", request_)
    form = DecisionForm()
    if form.validate_on_submit():
        say_here("makeups", makeups.decide(request_, form.decision.data == "accept", current_user))
        db.session.commit()
    return redirect_to(url_for("attendance.roll_page", session_id=request_.host_session_id, _anchor="makeups-message"))
