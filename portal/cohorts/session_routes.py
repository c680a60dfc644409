"""The schedule: one session's page, its inline editor and its .ics file."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, redirect, request, url_for
from flask_login import current_user, login_required

from portal.authz import can, require, session_of
from portal.calendar.ics import build as build_calendar
from portal.cohorts import bp, manage, notify
from portal.cohorts import handouts as handout_files
from portal.cohorts.forms import SessionForm
from portal.cohorts.schedule import local_to_utc
from portal.extensions import db
from portal.models import utcnow
from portal.web import render_page, say_here, wants_fragment


def _session_row(session):
    return render_page(
        "cohorts/_session_row.html",
        None,
        s=session,
        manager=can(current_user, "reschedule_session", session),
        handouts=handout_files.by_week(session.cohort_id),
    )


@bp.get("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    session = session_of(session_id)
    require("view_session", session)
    if wants_fragment():
        return _session_row(session)
    return render_page("cohorts/session.html", None, s=session, now=utcnow())


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id: int):
    session = session_of(session_id)
    require("reschedule_session", session)
    cohort = session.cohort
    zone = ZoneInfo(cohort.time_zone)
    local = session.starts_at.astimezone(zone)
    form = SessionForm(
        data={"day": local.date(), "start_time": local.time(), "meeting_url": session.meeting_url}
        if request.method == "GET"
        else None
    )
    warnings: list[str] = []
    if form.validate_on_submit():
        new_start = local_to_utc(form.day.data, form.start_time.data, cohort.time_zone)
        meeting_url = form.meeting_url.data or None
        warnings = manage.reschedule_warnings(session, new_start)
        if warnings and form.confirm.data != "yes":
            form.confirm.data = "yes"
        else:
            before = session.starts_at
            changed = manage.reschedule(session, new_start, meeting_url, current_user)
            told = notify.session_moved(session, before, current_user) if changed and before != new_start else 0
            db.session.commit()
            if changed:
                say_here(
                    f"session-{session.id}",
                    f"Week {session.week} moved to {new_start.astimezone(zone):%a %-d %b %Y, %H:%M} "
                    f"({cohort.time_zone}). Calendars update by themselves"
                    + (
                        f"; {told} {'person was' if told == 1 else 'people were'} told by mail and on their dashboard."
                        if told
                        else "."
                    ),
                )
            else:
                say_here(f"session-{session.id}", "Nothing changed.", "info")
            if wants_fragment():
                return _session_row(session)
            return redirect(
                url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"session-{session.id}-message"), code=303
            )
    status = 422 if form.errors else 200
    template = "cohorts/_session_edit.html" if wants_fragment() else "cohorts/session_edit.html"
    return render_page(template, None, status=status, s=session, form=form, warnings=warnings)


@bp.get("/sessions/<int:session_id>/calendar.ics")
@login_required
def session_ics(session_id: int):
    session = session_of(session_id)
    require("view_session", session)
    body = build_calendar([session], f"{session.cohort.name}: week {session.week}", request.host.split(":")[0])
    return current_app.response_class(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="week-{session.week}.ics"',
            "Cache-Control": "private, no-store",
        },
    )
