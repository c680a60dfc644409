"""Handouts: add (file or link), download through an authorised route, remove."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from portal import audit, inputs
from portal.authz import can, require
from portal.cohorts import bp
from portal.cohorts import handouts as handout_files
from portal.cohorts.curriculum import WEEKS
from portal.cohorts.forms import HandoutForm
from portal.cohorts.pages import cohort_for, confirm_page
from portal.extensions import db
from portal.models import Cohort, CohortSession, Handout, utcnow
from portal.web import get_or_404, redirect_to, render_page, say_here


def _handout_page(cohort: Cohort, form: HandoutForm, status: int = 200):
    """The page with the handout form (its own page: the cohort page only links to it, so it
    does not build and render a form most visits never use)."""
    return render_page(
        "cohorts/handout_new.html",
        None,
        status=status,
        cohort=cohort,
        form=form,
        handout_max_bytes=handout_files.MAX_BYTES,
    )


@bp.get("/cohorts/<int:cohort_id>/handouts/new")
@login_required
def new_handout(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    form = HandoutForm(formdata=None)
    week = inputs.optional_record_id(request.args.get("week"))
    if week is not None and 1 <= week <= len(WEEKS):  # "Add a handout" from a week of the schedule
        form.week.data = str(week)
    return _handout_page(cohort, form)


@bp.post("/cohorts/<int:cohort_id>/handouts")
@login_required
def add_handout(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    form = HandoutForm()
    if form.validate_on_submit():
        if form.scope.data == "programme" and not can(current_user, "add_programme_handout"):
            abort(403)
        upload = form.file.data if form.file.data and getattr(form.file.data, "filename", "") else None
        try:
            handout = handout_files.add(
                cohort_id=None if form.scope.data == "programme" else cohort.id,
                week=int(form.week.data),
                title=form.title.data.strip(),
                upload=(upload.filename, upload.read(handout_files.MAX_BYTES + 1)) if upload else None,
                link_url=form.link_url.data or None,
                folder=current_app.config["UPLOAD_FOLDER"],
                by=current_user,
            )
        except handout_files.HandoutError as error:
            db.session.rollback()
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            # The message goes where the handout now shows: its week in the cohort's schedule.
            session_id = db.session.execute(
                db.select(CohortSession.id).where(
                    CohortSession.cohort_id == cohort.id, CohortSession.week == handout.week
                )
            ).scalar()
            place = f"session-{session_id}" if session_id else "schedule"
            say_here(place, f"“{handout.title}” added to week {handout.week}.")
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"{place}-message"))
    return _handout_page(cohort, form, status=422)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A file above the upload limit: the handout form again, its message next to the file
    field (the body was never read, so nothing else of the form can come back). Elsewhere in
    the area: the portal's error page."""
    if request.endpoint != "cohorts.add_handout" or not current_user.is_authenticated:
        from portal.errors import _render

        return _render(413)
    from werkzeug.datastructures import ImmutableMultiDict

    # The body is never read: the page's forms see an empty submission, not a new 413.
    request.__dict__["form"] = ImmutableMultiDict()
    request.__dict__["files"] = ImmutableMultiDict()
    cohort = cohort_for(request.view_args["cohort_id"], "manage_cohort")
    form = HandoutForm(formdata=None)
    limit = handout_files.MAX_BYTES // (1024 * 1024)
    form.file.errors = [f"That file is larger than {limit} MB. Choose a smaller file, or add a link to it instead."]
    form.title.errors = []
    response = _handout_page(cohort, form, status=413)
    response.headers["Connection"] = "close"  # the rest of the upload is not read
    return response


@bp.get("/handouts/<int:handout_id>")
@login_required
def handout(handout_id: int):
    item = get_or_404(Handout, handout_id)
    require("download_handout", item)
    if not item.is_file:
        return redirect(item.link_url)
    path = handout_files.path_of(current_app.config["UPLOAD_FOLDER"], item.stored_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/handouts/<int:handout_id>/remove")
@login_required
def remove_handout(handout_id: int):
    item = get_or_404(Handout, handout_id)
    require("remove_handout", item)
    back = inputs.optional_record_id(request.form.get("cohort_id"))
    cohort = db.session.get(Cohort, back) if back else None
    if cohort is not None and not can(current_user, "view_cohort", cohort):
        cohort = None
    # The week's session row on the cohort page, where the handout was listed.
    session_id = (
        db.session.execute(
            db.select(CohortSession.id).where(CohortSession.cohort_id == cohort.id, CohortSession.week == item.week)
        ).scalar()
        if cohort is not None
        else None
    )
    place = f"session-{session_id}" if session_id else None
    there = (
        url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"{place}-message" if place else "schedule")
        if cohort is not None
        else url_for("dashboards.home")
    )
    if item.removed_at is None and request.form.get("confirm") != "yes":
        return confirm_page(
            title=f"Remove “{item.title}”?",
            text=(
                f"Trainees will no longer see it in week {item.week}"
                + (" of every cohort." if item.cohort_id is None else ".")
                + " It stays in the records and an admin can still open it."
            ),
            action=url_for("cohorts.remove_handout", handout_id=item.id),
            fields={"cohort_id": cohort.id if cohort is not None else ""},
            button="Yes, remove it",
            back=there,
        )
    if item.removed_at is None:
        item.removed_at = utcnow()
        audit.record(current_user, "handout.removed", item, cohort_id=item.cohort_id)
        db.session.commit()
        if place:
            say_here(place, f"“{item.title}” removed.")
        else:
            from flask import flash

            flash(f"“{item.title}” removed.", "success")
    return redirect_to(there)
