"""Cohorts: creating them, the schedule, the roster, dyads and handouts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func
from wtforms import SelectChoice

from portal import audit, people
from portal.auth.routes import send_invitation
from portal.authz import can, require, session_of, visible_cohorts
from portal.cohorts import dyads as dyad_service
from portal.cohorts import handouts as handout_files
from portal.cohorts import manage, roster
from portal.cohorts.calendar import build as build_calendar
from portal.cohorts.curriculum import WEEKS
from portal.cohorts.forms import (
    AddTraineesForm,
    CohortFilterForm,
    CohortForm,
    CohortSettingsForm,
    HandoutForm,
    InviteListForm,
    PairForm,
    SessionForm,
    SupervisorForm,
    SwapForm,
    WithdrawForm,
)
from portal.cohorts.schedule import local_to_utc
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Role,
    Supervision,
    User,
    UserRole,
    utcnow,
)
from portal.web import get_or_404, redirect_to, render_page, wants_fragment

bp = Blueprint("cohorts", __name__)


def _cohort(cohort_id: int, action: str) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    require(action, cohort)
    return cohort


def _people_with_role(role: Role) -> list[User]:
    return list(
        db.session.execute(
            db.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.deactivated_at.is_(None))
            .order_by(User.display_name, User.id)
        ).scalars()
    )


def _facilitator_choices() -> list[SelectChoice]:
    return [SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in _people_with_role(Role.FACILITATOR)]


def _chosen_facilitators(ids: list[int]) -> list[User]:
    allowed = {u.id: u for u in _people_with_role(Role.FACILITATOR)}
    return [allowed[i] for i in ids if i in allowed]


# --- list and create ------------------------------------------------------------------------


@bp.get("/cohorts")
@login_required
def index():
    require("list_cohorts")
    form = CohortFilterForm(request.args)
    form.facilitator.choices = [SelectChoice("", "Any facilitator")] + _facilitator_choices()
    form.validate()
    now = utcnow()
    status = Cohort.status_expression(now)
    query = visible_cohorts(current_user).add_columns(status.label("current")).order_by(Cohort.starts_at.desc())
    if form.status.data:
        query = query.where(status == form.status.data)
    if form.facilitator.data and not form.facilitator.errors:
        query = query.where(
            Cohort.id.in_(
                db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == form.facilitator.data)
            )
        )
    if form.month.data and not form.month.errors:
        year, month = map(int, form.month.data.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        query = query.where(Cohort.starts_at >= start, Cohort.starts_at < end)
    rows = db.session.execute(query).all()
    counts = roster.counts_by_cohort([c.id for c, _ in rows])
    return render_page("cohorts/index.html", "cohort_results", form=form, rows=rows, counts=counts)


@bp.route("/cohorts/new", methods=["GET", "POST"])
@login_required
def create():
    require("create_cohort")
    form = CohortForm()
    form.facilitators.choices = _facilitator_choices()
    if form.validate_on_submit():
        cohort = manage.create_cohort(
            name=form.name.data.strip(),
            facilitators=_chosen_facilitators(form.facilitators.data),
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
        flash(f"{cohort.name} is created with its six sessions.", "success")
        return redirect_to(url_for("cohorts.show", cohort_id=cohort.id))
    status = 422 if form.errors else 200
    return render_page("cohorts/new.html", "cohort_form", status=status, form=form)


# --- the cohort page ---------------------------------------------------------------------------


def _page_context(cohort: Cohort) -> dict:
    """Everything the cohort page shows, in a fixed number of queries whatever the roster size."""
    manager = can(current_user, "manage_cohort", cohort)
    enrollments = (
        list(
            db.session.execute(
                db.select(Enrollment)
                .where(Enrollment.cohort_id == cohort.id)
                .order_by(Enrollment.status, Enrollment.waitlisted_at, User.display_name)
                .join(User, User.id == Enrollment.user_id)
            ).scalars()
        )
        if manager
        else []
    )
    enrolled = [e for e in enrollments if e.status == EnrollmentStatus.ENROLLED.value]
    waitlisted = sorted(
        (e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED.value), key=lambda e: (e.waitlisted_at, e.id)
    )
    withdrawn = [e for e in enrollments if e.status == EnrollmentStatus.WITHDRAWN.value]
    supervisors = {}
    if manager and enrollments:
        supervisors = {
            s.trainee_id: s.supervisor
            for s in db.session.execute(
                db.select(Supervision).where(
                    Supervision.trainee_id.in_([e.user_id for e in enrollments]), Supervision.ended_at.is_(None)
                )
            ).scalars()
        }
    dyads = dyad_service.active_dyads(cohort.id) if manager else []
    my_dyad = None
    if not manager:
        my_dyad = dyad_service.dyad_of(cohort.id, current_user.id)
    handouts = handout_files.by_week(cohort.id)
    swap_form = SwapForm()
    members = [(m.user_id, m.user.display_name) for d in dyads for m in d.current_members]
    swap_form.first.choices = swap_form.second.choices = [
        SelectChoice(i, n) for i, n in sorted(members, key=lambda x: x[1])
    ]
    return {
        "cohort": cohort,
        "cohort_status": cohort.current_status(),
        "manager": manager,
        "enrolled": enrolled,
        "waitlisted": waitlisted,
        "withdrawn": withdrawn,
        "supervisors": supervisors,
        "dyads": dyads,
        "dyads_need_repair": dyad_service.needs_repair(dyads, {e.user_id for e in enrolled}),
        "my_dyad": my_dyad,
        "handouts": handouts,
        "weeks": WEEKS,
        "pair_form": PairForm(),
        "swap_form": swap_form,
        "handout_form": HandoutForm(),
        "now": utcnow(),
    }


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def show(cohort_id: int):
    cohort = _cohort(cohort_id, "view_cohort")
    block = request.args.get("part") if request.args.get("part") in {"roster", "dyads", "schedule"} else None
    return render_page("cohorts/show.html", block, **_page_context(cohort))


def _back_to(cohort: Cohort, block: str, anchor: str):
    """After a change on the cohort page: the refreshed block for htmx, else the page."""
    if wants_fragment():
        return render_page("cohorts/show.html", block, **_page_context(cohort))
    return redirect(url_for("cohorts.show", cohort_id=cohort.id, _anchor=anchor), code=303)


@bp.route("/cohorts/<int:cohort_id>/settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int):
    cohort = _cohort(cohort_id, "administer_cohort")
    form = CohortSettingsForm(obj=cohort)
    form.facilitators.choices = _facilitator_choices()
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
            manage.set_facilitators(cohort, _chosen_facilitators(form.facilitators.data), current_user)
            audit.record(current_user, "cohort.updated", cohort, before=before, capacity=cohort.capacity)
            db.session.commit()
            flash(
                "Cohort settings saved." + (f" {len(promoted)} moved up from the waitlist." if promoted else ""),
                "success",
            )
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id))
    status = 422 if form.errors else 200
    return render_page("cohorts/settings.html", "settings_form", status=status, form=form, cohort=cohort)


# --- sessions ----------------------------------------------------------------------------------


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
            changed = manage.reschedule(session, new_start, meeting_url, current_user)
            db.session.commit()
            if changed:
                flash(
                    f"Week {session.week} moved to {new_start.astimezone(zone):%a %-d %b %Y, %H:%M} "
                    f"({cohort.time_zone}). Calendars update by themselves.",
                    "success",
                )
            if wants_fragment():
                return _session_row(session)
            return redirect(url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"session-{session.id}"), code=303)
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


# --- roster ------------------------------------------------------------------------------------


def _candidates(cohort: Cohort, query_text: str) -> list[User]:
    on_roster = db.select(Enrollment.user_id).where(
        Enrollment.cohort_id == cohort.id, Enrollment.status != EnrollmentStatus.WITHDRAWN.value
    )
    query = (
        db.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.TRAINEE.value, User.deactivated_at.is_(None), User.id.not_in(on_roster))
        .order_by(User.display_name, User.id)
        .limit(50)
    )
    if query_text:
        pattern = f"%{query_text.lower().replace('%', '').replace('_', '')}%"
        query = query.where(func.lower(User.display_name).like(pattern) | User.email.like(pattern))
    return list(db.session.execute(query).scalars())


def _roster_add_page(cohort: Cohort, add_form=None, invite_form=None, preview=None, status=200):
    q = (request.args.get("q") or "").strip()[:120]
    candidates = _candidates(cohort, q)
    add_form = add_form or AddTraineesForm()
    add_form.user_ids.choices = [SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in candidates]
    return render_page(
        "cohorts/roster_add.html",
        "candidates" if request.args.get("q") is not None and wants_fragment() else None,
        status=status,
        cohort=cohort,
        add_form=add_form,
        invite_form=invite_form or InviteListForm(),
        preview=preview,
        q=q,
        free=cohort.capacity - roster.enrolled_count(cohort.id),
    )


@bp.route("/cohorts/<int:cohort_id>/roster/add", methods=["GET", "POST"])
@login_required
def roster_add(cohort_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
    form = AddTraineesForm()
    if request.method == "POST":
        form.user_ids.choices = [SelectChoice(i, str(i)) for i in (request.form.getlist("user_ids", type=int))]
        if form.validate_on_submit():
            # Only active trainee accounts can be picked here, whatever the request says.
            chosen = (
                db.session.execute(
                    db.select(User)
                    .join(UserRole, UserRole.user_id == User.id)
                    .where(
                        User.id.in_(form.user_ids.data),
                        User.deactivated_at.is_(None),
                        UserRole.role == Role.TRAINEE.value,
                    )
                )
                .scalars()
                .all()
            )
            if len(chosen) != len(set(form.user_ids.data)):
                abort(400)
            outcomes = []
            try:
                for user in chosen:
                    outcomes.append(roster.add_trainee(cohort.id, user, current_user))
            except roster.RosterError as error:
                db.session.rollback()
                flash(str(error), "error")
                return redirect_to(url_for("cohorts.roster_add", cohort_id=cohort.id))
            db.session.commit()
            _flash_added(outcomes)
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster"))
        return _roster_add_page(cohort, add_form=form, status=422)
    return _roster_add_page(cohort)


def _flash_added(outcomes: list[Enrollment]) -> None:
    enrolled = sum(e.status == EnrollmentStatus.ENROLLED.value for e in outcomes)
    waiting = len(outcomes) - enrolled
    message = f"{enrolled} added to the roster."
    if waiting:
        message += f" The cohort is full: {waiting} went on the waitlist."
    flash(message, "success")


@bp.post("/cohorts/<int:cohort_id>/roster/invite")
@login_required
def roster_invite(cohort_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
    form = InviteListForm()
    if not form.validate_on_submit():
        return _roster_add_page(cohort, invite_form=form, status=422)
    text = form.people.data or ""
    upload = form.csv_file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            form.csv_file.errors.append("The CSV file is larger than 2 MB.")
            return _roster_add_page(cohort, invite_form=form, status=422)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        form.people.data = text  # so "add only the valid rows" re-sends the same list
    if not text.strip():
        form.people.errors.append("Paste some email addresses or choose a CSV file.")
        return _roster_add_page(cohort, invite_form=form, status=422)
    result = roster.parse_people_list(text, roster.roster_emails(cohort.id))
    if result.errors and form.add_valid_only.data != "yes":
        return _roster_add_page(cohort, invite_form=form, preview=result, status=422)
    invited: list[User] = []
    outcomes: list[Enrollment] = []
    for row in result.rows:
        user = people.find_by_email(row.email)
        if user is None:
            user = people.create_invited(row.email, row.name or None, {Role.TRAINEE}, current_user)
            invited.append(user)
        elif user.deactivated_at is not None:
            continue
        outcomes.append(roster.add_trainee(cohort.id, user, current_user))
    db.session.commit()
    for user in invited:
        send_invitation(user, current_user)
    _flash_added(outcomes)
    if invited:
        flash(f"{len(invited)} invitation{'s' if len(invited) != 1 else ''} sent.", "info")
    return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster"))


def _enrollment(cohort: Cohort, enrollment_id: int) -> Enrollment:
    enrollment = get_or_404(Enrollment, enrollment_id)
    if enrollment.cohort_id != cohort.id:
        abort(404)
    return enrollment


def _enrollment_page(cohort, enrollment, withdraw_form=None, supervisor_form=None, status=200):
    supervisor_form = supervisor_form or SupervisorForm()
    supervisor_form.supervisor_id.choices = [SelectChoice(0, "Choose…")] + [
        SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in _people_with_role(Role.SUPERVISOR)
    ]
    current = roster.current_supervision(enrollment.user_id)
    return render_page(
        "cohorts/enrollment.html",
        None,
        status=status,
        cohort=cohort,
        enrollment=enrollment,
        supervision=current,
        withdraw_form=withdraw_form or WithdrawForm(),
        supervisor_form=supervisor_form,
    )


@bp.get("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>")
@login_required
def enrollment(cohort_id: int, enrollment_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
    return _enrollment_page(cohort, _enrollment(cohort, enrollment_id))


@bp.post("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>/withdraw")
@login_required
def withdraw(cohort_id: int, enrollment_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
    enrollment = _enrollment(cohort, enrollment_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _enrollment_page(cohort, enrollment, withdraw_form=form, status=422)
    try:
        promoted = roster.withdraw(enrollment, form.reason.data.strip(), current_user)
    except roster.RosterError as error:
        db.session.rollback()
        form.reason.errors.append(str(error))
        return _enrollment_page(cohort, enrollment, withdraw_form=form, status=422)
    db.session.commit()
    message = f"{enrollment.user.display_name} is withdrawn; their history is kept."
    if promoted:
        message += " " + ", ".join(e.user.display_name for e in promoted) + " moved up from the waitlist."
    flash(message, "success")
    return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster"))


@bp.post("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>/supervisor")
@login_required
def set_supervisor(cohort_id: int, enrollment_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
    enrollment = _enrollment(cohort, enrollment_id)
    form = SupervisorForm()
    form.supervisor_id.choices = [SelectChoice(0, "")] + [
        SelectChoice(u.id, u.email) for u in _people_with_role(Role.SUPERVISOR)
    ]
    if not form.validate_on_submit():
        return _enrollment_page(cohort, enrollment, supervisor_form=form, status=422)
    invited = None
    if form.supervisor_id.data:
        supervisor = db.session.get(User, form.supervisor_id.data)
    else:
        supervisor = people.find_by_email(form.email.data)
        if supervisor is None:
            supervisor = invited = people.create_invited(
                form.email.data, form.name.data, {Role.SUPERVISOR}, current_user
            )
    try:
        roster.set_supervisor(enrollment.user, supervisor, current_user)
    except roster.RosterError as error:
        db.session.rollback()
        form.email.errors.append(str(error))
        return _enrollment_page(cohort, enrollment, supervisor_form=form, status=422)
    db.session.commit()
    if invited is not None:
        send_invitation(invited, current_user)
    flash(
        f"{supervisor.display_name} now supervises {enrollment.user.display_name}"
        + (" (invitation sent)." if invited else "."),
        "success",
    )
    return redirect_to(url_for("cohorts.enrollment", cohort_id=cohort.id, enrollment_id=enrollment.id))


# --- dyads -------------------------------------------------------------------------------------


def _dyad_change(cohort: Cohort, change) -> object:
    try:
        message = change()
    except roster.RosterError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return _back_to(cohort, "dyads", "dyads")


@bp.post("/cohorts/<int:cohort_id>/dyads/pair")
@login_required
def pair(cohort_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
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
    cohort = _cohort(cohort_id, "manage_cohort")
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
    cohort = _cohort(cohort_id, "manage_cohort")
    locked = request.form.get("locked") == "yes"

    def change():
        dyad_service.set_locked(cohort.id, locked, current_user)
        return "The pairs are locked." if locked else "The pairs are unlocked."

    return _dyad_change(cohort, change)


@bp.post("/cohorts/<int:cohort_id>/dyads/repair")
@login_required
def repair_dyads(cohort_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")

    def change():
        n = dyad_service.repair_cohort(cohort.id, current_user)
        return (
            f"{n} new pair{'s' if n != 1 else ''} formed; the other pairs stay as they were."
            if n
            else "Everyone has a partner."
        )

    return _dyad_change(cohort, change)


# --- handouts ----------------------------------------------------------------------------------


@bp.post("/cohorts/<int:cohort_id>/handouts")
@login_required
def add_handout(cohort_id: int):
    cohort = _cohort(cohort_id, "manage_cohort")
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
    context = _page_context(cohort)
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
