"""The programme team's pages: accounts, invitations and the audit log."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from portal import audit, people
from portal.admin import bp
from portal.admin.forms import DeactivateForm, InviteForm, RolesForm, UserSearchForm
from portal.auth.invitations import send_invitation
from portal.authz import require
from portal.extensions import db
from portal.models import AuditEvent, Role, User, UserRole
from portal.web import get_or_404, page_number, redirect_to, render_page

PER_PAGE = 50


@bp.get("/users")
@login_required
def users():
    require("manage_users")
    form = UserSearchForm(request.args)
    valid = form.validate()  # a filter with an error is not applied; its message shows
    query = db.select(User).options(selectinload(User.role_rows)).order_by(User.display_name, User.id)
    if form.q.data and not form.q.errors:
        query = query.where(people.matching(form.q.data))
    if form.role.data and not form.role.errors:
        query = query.where(User.id.in_(db.select(UserRole.user_id).where(UserRole.role == form.role.data)))
    if form.status.data == "deactivated":
        query = query.where(User.deactivated_at.is_not(None))
    elif form.status.data == "invited":
        query = query.where(User.deactivated_at.is_(None), User.password_hash.is_(None))
    elif form.status.data == "active":
        query = query.where(User.deactivated_at.is_(None), User.password_hash.is_not(None))
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_page("admin/users.html", "user_results", status=200 if valid else 422, form=form, page=page)


@bp.get("/users/<int:user_id>")
@login_required
def user(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    return _user_page(person)


def _user_page(
    person: User, roles_form: RolesForm | None = None, status: int = 200, deactivate_form: DeactivateForm | None = None
):
    roles_form = roles_form or RolesForm(data={"roles": [r.value for r in person.ordered_roles]})
    events = (
        db.session.execute(
            db.select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.subject_type == "users", AuditEvent.subject_id == person.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )
    return render_page(
        "admin/user.html",
        "account_panel",
        status=status,
        person=person,
        roles_form=roles_form,
        deactivate_form=deactivate_form or DeactivateForm(),
        events=events,
    )


@bp.post("/users/<int:user_id>/roles")
@login_required
def change_roles(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            people.change_roles(person, {Role(r) for r in form.roles.data or []}, current_user)
        except people.AccountError as error:
            db.session.rollback()
            form.roles.errors.append(str(error))
            return _user_page(person, form, status=422)
        db.session.commit()
        flash(f"Roles of {person.display_name} saved.", "success")
        return redirect_to(url_for("admin.user", user_id=person.id))
    return _user_page(person, form, status=422)


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            people.deactivate(person, current_user, form.reason.data)
        except people.AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect_to(url_for("admin.user", user_id=person.id))
        db.session.commit()
        flash(f"{person.display_name} is deactivated and signed out everywhere.", "success")
        return redirect_to(url_for("admin.user", user_id=person.id))
    return _user_page(person, deactivate_form=form, status=422)


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    people.reactivate(person, current_user)
    db.session.commit()
    flash(f"{person.display_name} can sign in again.", "success")
    return redirect_to(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/invitation")
@login_required
def resend_invitation(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    if person.status != "invited":
        flash(f"{person.display_name} has already set a password.", "info")
    else:
        audit.record(current_user, "account.invitation_resent", person)
        send_invitation(person, current_user)
        db.session.commit()
        flash(f"A new invitation was sent to {person.email}. Earlier links no longer work.", "success")
    return redirect_to(url_for("admin.user", user_id=person.id))


@bp.route("/invitations/new", methods=["GET", "POST"])
@login_required
def invite():
    require("manage_users")
    form = InviteForm()
    if form.validate_on_submit():
        try:
            person = people.create_invited(
                form.email.data, form.display_name.data, {Role(r) for r in form.roles.data}, current_user
            )
        except people.AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            send_invitation(person, current_user)
            db.session.commit()
            flash(f"Invitation sent to {person.email}.", "success")
            return redirect_to(url_for("admin.user", user_id=person.id))
    status = 422 if form.errors else 200
    return render_page("admin/invite.html", "invite_form", status=status, form=form)


@bp.get("/audit")
@login_required
def audit_log():
    require("manage_users")
    query = (
        db.select(AuditEvent).options(joinedload(AuditEvent.actor)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_page("admin/audit.html", None, page=page)
