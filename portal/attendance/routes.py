"""The live session page, self check-in, the facilitator's roll, the CSV, progress, settings."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Response, abort, request, url_for
from flask_login import current_user, login_required

from portal.attendance import bp, feedback, makeups, roll
from portal.attendance import hours as attendance_hours
from portal.attendance.forms import CheckinForm, MarkAllForm, MarkForm, SettingsForm, WindowForm
from portal.attendance.rules import roll_minutes
from portal.authz import can, current_enrollment, require, session_of
from portal.cohorts import handouts as handout_files
from portal.cohorts.pages import _pairs
from portal.cohorts.schedule import JOIN_OPENS_BEFORE
from portal.extensions import db
from portal.models import AttendanceSettings, Cohort, utcnow
from portal.web import get_or_404, redirect_to, render_page, say_here, wants_fragment


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff", title="Check-in QR code")


def _live_context(session, now, form=None, outcome=None):
    manager = can(current_user, "take_roll", session)
    attends = can(current_user, "check_in", session)
    in_cohort = can(current_user, "take_part", session.cohort)
    window = roll.window(session.id)
    code = roll.current_code(session, now) if manager else None
    mine = None
    if attends:
        from portal.models import Attendance

        mine = db.session.execute(
            db.select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == current_user.id)
        ).scalar_one_or_none()
    typed = request.args.get("code", "") if request.method == "GET" else None
    return dict(
        s=session,
        now=now,
        opens_at=session.starts_at - JOIN_OPENS_BEFORE,
        manager=manager,
        attends=attends,
        live=roll.rules.is_live(session.starts_at, session.ends_at, now),
        window=window,
        code=code,
        seconds_left=roll.codes.seconds_left(now),
        qr=_qr_svg(url_for("attendance.live", session_id=session.id, code=code, _external=True)) if code else None,
        mine=mine,
        form=form or CheckinForm(data={"code": typed} if typed else None),
        outcome=outcome,
        handouts=handout_files.by_week(session.cohort_id)[session.week] if in_cohort else [],
        pairs=_pairs(session.cohort_id) if in_cohort else [],
        window_form=WindowForm(),
        feedback_due=attends and feedback.is_due(session, current_user.id, now),
    )


@bp.get("/sessions/<int:session_id>/live")
@login_required
def live(session_id: int):
    session = session_of(session_id)
    require("view_live", session)
    now = utcnow()
    return render_page("attendance/live.html", request.args.get("part"), **_live_context(session, now))


@bp.post("/sessions/<int:session_id>/checkin")
@login_required
def checkin(session_id: int):
    """Only the signed-in person checks in, only themselves: the person comes from the
    session cookie, the session from the URL; nothing in the body names either."""
    session = session_of(session_id)
    require("check_in", session)
    form = CheckinForm()
    now = utcnow()
    outcome = None
    fragment = wants_fragment()
    box = None
    if form.validate_on_submit():
        outcome = roll.check_in(session, current_user, form.code.data, now)
        if not outcome.ok:
            form.code.errors = [outcome.message]
        if fragment:  # read before the commit expires the session's attributes
            box = _checkin_context(session, now, form, outcome)
        db.session.commit()
        if outcome.ok:
            say_here("checkin", outcome.message)
            if not fragment:
                return redirect_to(url_for("attendance.live", session_id=session.id, _anchor="checkin-message"))
    status = 200 if outcome is not None and outcome.ok else 422
    if fragment:
        # htmx: only the check-in box (a few hundred bytes), not the live page's context.
        box = box or _checkin_context(session, now, form, outcome)
        return render_page("attendance/_checkin.html", None, status=status, **box)
    return render_page("attendance/live.html", None, status=status, **_live_context(session, now, form, outcome))


def _checkin_context(session, now, form, outcome):
    """What the check-in box shows after a POST: the person's mark comes from the outcome
    when they are checked in (no query); else what is stored, and the form again."""
    mine = None
    if outcome is not None and outcome.ok and outcome.status:
        mine = roll.Mark(outcome.status, outcome.minutes)
    else:
        mine = roll.mark_of(session.id, current_user.id)
    live = roll.rules.is_live(session.starts_at, session.ends_at, now)
    return dict(
        s=SimpleNamespace(id=session.id, starts_at=session.starts_at),
        now=now,
        attends=True,
        live=live,
        window=roll.window(session.id) if mine is None and live else None,
        mine=mine,
        form=form,
        outcome=outcome,
        feedback_due=now >= session.ends_at and feedback.is_due(session, current_user.id, now),
    )


@bp.post("/sessions/<int:session_id>/checkin/window")
@login_required
def checkin_window(session_id: int):
    session = session_of(session_id)
    require("take_roll", session)
    form = WindowForm()
    if form.validate_on_submit():
        if form.action.data == "open":
            roll.open_checkin(session, current_user)
            say_here("checkin-control", "Check-in is open: show the code or the QR code.")
        else:
            roll.close_checkin(session, current_user)
            say_here("checkin-control", "Check-in is closed.")
        db.session.commit()
    return redirect_to(url_for("attendance.live", session_id=session.id, _anchor="checkin-control-message"))


# --- the roll ---------------------------------------------------------------------------------------


def _roll_context(session, forms=None):
    entries = roll.roll(session)
    return dict(
        s=session,
        entries=entries,
        version=roll.version(session.id),
        forms=forms or {},
        mark_all=MarkAllForm(),
        now=utcnow(),
        unmarked=sum(1 for e in entries if e.attendance is None),
        pending=makeups.pending_for(session.id),
        decision_form=makeups.DecisionForm(),
    )


@bp.get("/sessions/<int:session_id>/roll")
@login_required
def roll_page(session_id: int):
    """The roll. ?v=<version> (the roll's polling): an empty 204 while nothing changed, the
    roll's list when something did."""
    since = request.args.get("v")
    if since is not None:
        # The idle poll: one query (the version and whether this person facilitates), an
        # empty 204 while nothing changed; no session, cohort or roll is loaded.
        state = roll.poll_state(session_id, current_user.id)
        if state is None:
            abort(404)
        require("poll_roll", state)
        if since == state.version:
            response = Response(status=204)
            response.headers["Cache-Control"] = "no-store"
            return response
    session = session_of(session_id)
    require("take_roll", session)
    block = "roll" if since is not None else None
    return render_page("attendance/roll.html", block, **_roll_context(session))


@bp.post("/sessions/<int:session_id>/roll")
@login_required
def mark(session_id: int):
    session = session_of(session_id)
    require("take_roll", session)
    form = MarkForm()
    entry = None
    if form.validate_on_submit():
        entry = next((e for e in roll.roll(session) if e.user_id == form.user_id.data), None)
        if entry is None:
            form.user_id.errors = ["That person is not on this session's roll."]
        else:
            minutes, problem = roll_minutes(form.status.data, form.minutes.data, session.duration_minutes)
            if problem:
                form.minutes.errors = [problem]
            else:
                roll.mark(session, entry.user_id, form.status.data, minutes, form.note.data or None, current_user)
                db.session.commit()
                say_here(f"roll-{entry.user_id}", f"{entry.name}: {form.status.data.replace('_', ' ')}.")
                if wants_fragment():
                    entry = next(e for e in roll.roll(session) if e.user_id == entry.user_id)
                    return render_page("attendance/_roll_entry.html", e=entry, s=session, form=None, done=True)
                return redirect_to(
                    url_for("attendance.roll_page", session_id=session.id, _anchor=f"roll-{entry.user_id}-message")
                )
    if entry is None and isinstance(form.user_id.data, int):
        # A field refused (minutes not a number, out of range): the errors go next to that
        # person's row, not lost in a page without them.
        entry = next((e for e in roll.roll(session) if e.user_id == form.user_id.data), None)
    if entry is not None and wants_fragment():
        return render_page("attendance/_roll_entry.html", status=422, e=entry, s=session, form=form, done=False)
    forms = {entry.user_id: form} if entry is not None else {}
    return render_page("attendance/roll.html", None, status=422, **_roll_context(session, forms))


@bp.post("/sessions/<int:session_id>/roll/everyone-present")
@login_required
def mark_all(session_id: int):
    session = session_of(session_id)
    require("take_roll", session)
    form = MarkAllForm()
    if form.validate_on_submit():
        count = roll.mark_everyone_present(session, current_user)
        db.session.commit()
        say_here("roll", f"{count} {'person' if count == 1 else 'people'} marked present.")
    if wants_fragment():
        return render_page("attendance/roll.html", "roll", **_roll_context(session))
    return redirect_to(url_for("attendance.roll_page", session_id=session.id, _anchor="roll-message"))


@bp.get("/cohorts/<int:cohort_id>/attendance.csv")
@login_required
def export(cohort_id: int):
    cohort = get_or_404(Cohort, cohort_id)
    require("view_attendance", cohort)
    body = roll.cohort_csv(cohort)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="attendance-cohort-{cohort.id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


# --- hours toward the twelve --------------------------------------------------------------------------


@bp.get("/progress")
@login_required
def progress():
    require("view_progress")
    enrollment = current_enrollment(current_user)
    summary = None
    if enrollment is not None:
        summary = attendance_hours.summary(db.session, current_user.id, enrollment.cohort_id)
    return render_page(
        "attendance/progress.html",
        None,
        enrollment=enrollment,
        summary=summary,
        **makeups.progress_context(current_user, enrollment),
    )


# --- the admin setting -----------------------------------------------------------------------------------


@bp.route("/attendance/settings", methods=["GET", "POST"])
@login_required
def settings():
    require("attendance_settings")
    row = db.session.get(AttendanceSettings, 1)
    current = attendance_hours.rule_from_settings(db.session)
    form = SettingsForm(
        data={"min_minutes": current.min_minutes, "counted": sorted(current.counted)}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        from portal import audit

        if row is None:
            row = AttendanceSettings(id=1)
            db.session.add(row)
        before = {"min_minutes": current.min_minutes, "counted": sorted(current.counted)}
        row.min_minutes, row.counted_statuses = form.min_minutes.data, ",".join(form.counted.data)
        row.updated_at, row.updated_by_id = utcnow(), current_user.id
        audit.record(current_user, "attendance.settings", row, before=before,
                     after={"min_minutes": row.min_minutes, "counted": form.counted.data})
        db.session.commit()
        say_here("settings", "Saved: what counts as a covered week.")
        return redirect_to(url_for("attendance.settings", _anchor="settings-message"))
    return render_page("attendance/settings.html", None, status=422 if form.errors else 200, form=form)
