"""The roster: adding trainees (picked or invited), withdrawing them, their supervisor."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import inputs, people
from portal.auth.invitations import send_invitation
from portal.cohorts import bp, notify, roster
from portal.cohorts.forms import (
    AddTraineesForm,
    InviteListForm,
    SupervisorForm,
    WithdrawForm,
)
from portal.cohorts.pages import cohort_for
from portal.extensions import db
from portal.models import Cohort, Enrollment, EnrollmentStatus, Role, User, UserRole
from portal.people import people_with_role
from portal.web import get_or_404, redirect_to, render_page, say_here, wants_fragment


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
        query = query.where(people.matching(query_text))
    return list(db.session.execute(query).scalars())


def _roster_add_page(cohort: Cohort, add_form=None, invite_form=None, preview=None, status=200, elsewhere=None):
    q = (request.args.get("q") or "").strip()[:120]
    candidates = _candidates(cohort, q)
    add_form = add_form or AddTraineesForm()
    # Each candidate says where else they take part (and whether sessions overlap).
    places = roster.other_places(cohort.id, [u.id for u in candidates])
    add_form.user_ids.choices = [
        SelectChoice(
            u.id,
            f"{u.display_name} ({u.email})" + (" — " + " ".join(places[u.id]) if u.id in places else ""),
        )
        for u in candidates
    ]
    return render_page(
        "cohorts/roster_add.html",
        "candidates" if request.args.get("q") is not None and wants_fragment() else None,
        status=status,
        cohort=cohort,
        add_form=add_form,
        invite_form=invite_form or InviteListForm(),
        preview=preview,
        elsewhere=elsewhere,
        q=q,
        free=cohort.capacity - roster.enrolled_count(cohort.id),
    )


@bp.route("/cohorts/<int:cohort_id>/roster/add", methods=["GET", "POST"])
@login_required
def roster_add(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
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
            places = roster.other_places(cohort.id, [u.id for u in chosen])
            if places and request.form.get("confirm") != "yes":
                # Say so before adding: someone already in another cohort (a make-up, a
                # retake) may be right, two sessions at the same hour rarely are.
                names = {u.id: u.display_name for u in chosen}
                elsewhere = [(names[uid], texts) for uid, texts in places.items()]
                return _roster_add_page(cohort, add_form=form, elsewhere=elsewhere)
            outcomes = []
            try:
                for user in chosen:
                    outcomes.append(roster.add_trainee(cohort.id, user, current_user))
            except roster.RosterError as error:
                db.session.rollback()
                say_here("add-existing", str(error), "error")
                return redirect_to(url_for("cohorts.roster_add", cohort_id=cohort.id, _anchor="add-existing-message"))
            for enrollment, user in zip(outcomes, chosen, strict=True):
                if user.password_hash is None:  # not signed up yet: a fresh invitation names the cohort
                    continue
                notify.added_to_cohort(enrollment, user, current_user)
            for user in chosen:
                if user.password_hash is None:
                    send_invitation(user, current_user, cohort)
            db.session.commit()  # the places, notes, fresh links and their mail: together
            _say_added(outcomes)
            return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster-message"))
        return _roster_add_page(cohort, add_form=form, status=422)
    return _roster_add_page(cohort)


def _say_added(outcomes: list[Enrollment], invited: int = 0, told: int = 0) -> None:
    """The answer after adding people, next to the roster on the cohort page."""
    enrolled = sum(e.status == EnrollmentStatus.ENROLLED.value for e in outcomes)
    waiting = len(outcomes) - enrolled
    message = f"{enrolled} added to the roster."
    if waiting:
        message += f" The cohort is full: {waiting} went on the waitlist."
    if invited:
        message += f" {invited} invitation{'s' if invited != 1 else ''} sent."
    if told:
        message += f" {told} already had an account: they were told by mail and on their dashboard."
    say_here("roster", message)


@bp.post("/cohorts/<int:cohort_id>/roster/invite")
@login_required
def roster_invite(cohort_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
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
        # So "add only the valid rows" re-sends the same list; control characters are shown as
        # U+FFFD, and those lines stay refused.
        form.people.data = inputs.visible(text.replace("\r\n", "\n"))
    if not text.strip():
        form.people.errors.append("Paste some email addresses or choose a CSV file.")
        return _roster_add_page(cohort, invite_form=form, status=422)
    result = roster.screen_accounts(roster.parse_people_list(text, roster.roster_emails(cohort.id)), cohort.id)
    confirmed = form.add_valid_only.data == "yes" or request.form.get("confirm") == "yes"
    if result.errors and form.add_valid_only.data != "yes":
        return _roster_add_page(cohort, invite_form=form, preview=result, status=422)
    if result.warnings and not confirmed:
        # Someone on the list takes part in another cohort: say so (and whether sessions
        # overlap) before adding anyone.
        return _roster_add_page(cohort, invite_form=form, preview=result)
    try:
        outcomes, invited = roster.add_people(cohort.id, result.rows, current_user)
    except roster.RosterError as error:  # an account changed since the list was checked
        db.session.rollback()
        form.people.errors.append(str(error))
        return _roster_add_page(cohort, invite_form=form, status=422)
    invited_ids = {u.id for u in invited}
    told = 0
    for enrollment in outcomes:
        if enrollment.user_id in invited_ids:
            continue
        if enrollment.user.password_hash is None:  # an account not signed up yet: a fresh link naming the cohort
            invited.append(enrollment.user)
        else:
            notify.added_to_cohort(enrollment, enrollment.user, current_user)
            told += 1
    for user in invited:
        send_invitation(user, current_user, cohort)
    db.session.commit()  # the places, the new accounts, their links, notes and mail: together
    _say_added(outcomes, len(invited), told)
    return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster-message"))


def _enrollment(cohort: Cohort, enrollment_id: int) -> Enrollment:
    enrollment = get_or_404(Enrollment, enrollment_id)
    if enrollment.cohort_id != cohort.id:
        abort(404)
    return enrollment


def _enrollment_page(cohort, enrollment, withdraw_form=None, supervisor_form=None, status=200):
    supervisor_form = supervisor_form or SupervisorForm()
    supervisor_form.supervisor_id.choices = [SelectChoice(0, "Choose…")] + [
        SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in people_with_role(Role.SUPERVISOR)
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
    cohort = cohort_for(cohort_id, "manage_cohort")
    return _enrollment_page(cohort, _enrollment(cohort, enrollment_id))


@bp.post("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>/withdraw")
@login_required
def withdraw(cohort_id: int, enrollment_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
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
    say_here("roster", message)
    return redirect_to(url_for("cohorts.show", cohort_id=cohort.id, _anchor="roster-message"))


@bp.post("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>/supervisor")
@login_required
def set_supervisor(cohort_id: int, enrollment_id: int):
    cohort = cohort_for(cohort_id, "manage_cohort")
    enrollment = _enrollment(cohort, enrollment_id)
    form = SupervisorForm()
    form.supervisor_id.choices = [SelectChoice(0, "")] + [
        SelectChoice(u.id, u.email) for u in people_with_role(Role.SUPERVISOR)
    ]
    if not form.validate_on_submit():
        return _enrollment_page(cohort, enrollment, supervisor_form=form, status=422)
    invited = None
    if form.supervisor_id.data:
        supervisor = db.session.get(User, form.supervisor_id.data)
    else:
        # By email: a new account is invited as a supervisor; an existing one must already be
        # an active supervisor (only an admin changes what someone may do).
        supervisor, problem = people.existing_with_role(form.email.data, Role.SUPERVISOR)
        if problem:
            form.email.errors.append(f"{people.normalise_email(form.email.data)} {problem}.")
            return _enrollment_page(cohort, enrollment, supervisor_form=form, status=422)
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
    if invited is not None:
        send_invitation(invited, current_user)
    db.session.commit()
    say_here(
        "supervisor",
        f"{supervisor.display_name} now supervises {enrollment.user.display_name}"
        + (" (invitation sent)." if invited else "."),
    )
    return redirect_to(
        url_for("cohorts.enrollment", cohort_id=cohort.id, enrollment_id=enrollment.id, _anchor="supervisor-message")
    )


@bp.post("/cohorts/<int:cohort_id>/roster/<int:enrollment_id>/invite-again")
@login_required
def invite_again(cohort_id: int, enrollment_id: int):
    """A trainee of the cohort who has not signed up yet: a fresh invitation (the earlier
    link stops working), naming the cohort."""
    cohort = cohort_for(cohort_id, "manage_cohort")
    enrollment = _enrollment(cohort, enrollment_id)
    person = enrollment.user
    if enrollment.status == EnrollmentStatus.WITHDRAWN.value or person.status != "invited":
        say_here("invitation", f"{person.display_name} has already signed up: no invitation is needed.", "info")
    else:
        send_invitation(person, current_user, cohort)
        db.session.commit()
        say_here("invitation", f"A new invitation is on its way to {person.email}. The earlier link no longer works.")
    return redirect_to(
        url_for("cohorts.enrollment", cohort_id=cohort.id, enrollment_id=enrollment.id, _anchor="invitation-message")
    )
