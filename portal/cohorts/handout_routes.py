"""Handouts: add (file or link), download through an authorised route, remove."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required

from portal import audit
from portal.authz import can, require
from portal.cohorts import handouts as handout_files
from portal.cohorts.forms import HandoutForm
from portal.cohorts.routes import bp, cohort_for, page_context
from portal.extensions import db
from portal.models import Cohort, Handout, utcnow
from portal.web import get_or_404, redirect_to, render_page


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
            flash(f"“{handout.title}” added to week {handout.week}.", "success")
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"week-{handout.week}"))
    context = page_context(cohort)
    context["handout_form"] = form
    return render_page("cohorts/show.html", None, status=422, **context)


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
    back = request.form.get("cohort_id", type=int)
    if item.removed_at is None:
        item.removed_at = utcnow()
        audit.record(current_user, "handout.removed", item, cohort_id=item.cohort_id)
        db.session.commit()
        flash(f"“{item.title}” removed.", "success")
    if back and (cohort := db.session.get(Cohort, back)) is not None and can(current_user, "view_cohort", cohort):
        return redirect_to(url_for("cohorts.show", cohort_id=back, _anchor=f"week-{item.week}"))
    return redirect_to(url_for("dashboards.home"))
