"""The programme team's pages: accounts, invitations and the audit log."""

from __future__ import annotations

from flask import Response, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import audit, people
from portal.admin import audit_log, bp
from portal.admin.forms import AuditFilterForm, DeactivateForm, InviteForm, RolesForm, UserSearchForm
from portal.audit import ORIGINS
from portal.auth.invitations import send_invitation
from portal.authz import require
from portal.extensions import db
from portal.models import AuditEvent, Cohort, Role, User, UserRole, utcnow
from portal.models.people import ROLE_ORDER
from portal.templating import viewer_zone
from portal.web import RowsPage, get_or_404, page_number, redirect_to, render_page, say_here

PER_PAGE = 50


@bp.get("/users")
@login_required
def users():
    require("manage_users")
    form = UserSearchForm(request.args)
    valid = form.validate()  # a filter with an error is not applied; its message shows
    conditions = []
    if form.q.data and not form.q.errors:
        conditions.append(people.matching(form.q.data))
    if form.role.data and not form.role.errors:
        conditions.append(User.id.in_(db.select(UserRole.user_id).where(UserRole.role == form.role.data)))
    if form.status.data == "deactivated":
        conditions.append(User.deactivated_at.is_not(None))
    elif form.status.data == "invited":
        conditions += [User.deactivated_at.is_(None), User.password_hash.is_(None)]
    elif form.status.data == "active":
        conditions += [User.deactivated_at.is_(None), User.password_hash.is_not(None)]
    # The list reads rows: four columns of each person and their role names.
    roles = (
        db.select(db.func.aggregate_strings(UserRole.role, ",")).where(UserRole.user_id == User.id).scalar_subquery()
    )
    query = (
        db.select(User.id, User.display_name, User.email, User.status_expression().label("status"))
        .add_columns(roles.label("roles"))
        .where(*conditions)
        .order_by(User.display_name, User.id)
    )
    page = RowsPage(query, page_number(), PER_PAGE, count=db.select(db.func.count(User.id)).where(*conditions))
    page.items = [(row, role_labels(row.roles)) for row in page.items]
    return render_page("admin/users.html", "user_results", status=200 if valid else 422, form=form, page=page)


def role_labels(names: str | None) -> str:
    """ "Admin, Trainee" from the role names read with a row, in the portal's order."""
    mine = {Role(n) for n in (names or "").split(",") if n}
    return ", ".join(r.label for r in ROLE_ORDER if r in mine)


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
        events=audit_log.describe(list(events), viewer_zone().key),
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
        say_here("roles", f"Roles of {person.display_name} saved.")
        return redirect_to(url_for("admin.user", user_id=person.id, _anchor="roles-message"))
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
            say_here("account", str(error), "error")
            return redirect_to(url_for("admin.user", user_id=person.id, _anchor="account-message"))
        db.session.commit()
        say_here("account", f"{person.display_name} is deactivated and signed out everywhere.")
        return redirect_to(url_for("admin.user", user_id=person.id, _anchor="account-message"))
    return _user_page(person, deactivate_form=form, status=422)


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    people.reactivate(person, current_user)
    db.session.commit()
    say_here("account", f"{person.display_name} can sign in again.")
    return redirect_to(url_for("admin.user", user_id=person.id, _anchor="account-message"))


@bp.post("/users/<int:user_id>/invitation")
@login_required
def resend_invitation(user_id: int):
    require("manage_users")
    person = get_or_404(User, user_id)
    if person.status != "invited":
        say_here("account", f"{person.display_name} has already set a password.", "info")
    else:
        audit.record(current_user, "account.invitation_resent", person)
        send_invitation(person, current_user)
        db.session.commit()
        say_here("account", f"A new invitation was sent to {person.email}. Earlier links no longer work.")
    return redirect_to(url_for("admin.user", user_id=person.id, _anchor="account-message"))


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
            say_here("account", f"Invitation sent to {person.email}.")
            return redirect_to(url_for("admin.user", user_id=person.id, _anchor="account-message"))
    status = 422 if form.errors else 200
    return render_page("admin/invite.html", "invite_form", status=status, form=form)


FILTER_ARGS = ("who", "kind", "cohort", "date_from", "date_to")


def _audit_form() -> tuple[AuditFilterForm, bool, audit_log.Filters]:
    """The audit log's filters from the query string: (form, valid, filters). A filter with
    an error is not applied; its message shows next to it."""
    form = AuditFilterForm(request.args)
    form.who.choices = [
        SelectChoice("", "Anyone"),
        *(SelectChoice(key, label) for key, label in ORIGINS.items()),
        SelectChoice(audit_log.SYSTEM, "The portal (automatic)"),
        *(SelectChoice(value, label) for value, label in audit_log.actor_choices()),
    ]
    form.kind.choices = [SelectChoice("", "Any kind")] + [
        SelectChoice(key, label) for key, label in audit_log.KIND_LABELS.items()
    ]
    form.cohort.choices = [SelectChoice("", "Any cohort")] + [
        SelectChoice(str(c.id), c.name)
        for c in db.session.execute(db.select(Cohort).order_by(Cohort.starts_at.desc(), Cohort.id)).scalars()
    ]
    valid = form.validate()
    ok = lambda f: f.data and not f.errors  # noqa: E731
    filters = audit_log.Filters(
        who=form.who.data if ok(form.who) else "",
        kind=form.kind.data if ok(form.kind) else "",
        cohort_id=int(form.cohort.data) if ok(form.cohort) else None,
        date_from=form.date_from.data if ok(form.date_from) else None,
        date_to=form.date_to.data if ok(form.date_to) and not form.date_from.errors else None,
        zone=viewer_zone().key,
    )
    return form, valid, filters


def _filter_args() -> dict[str, str]:
    """The filters of this request, for the pager and the CSV link."""
    return {k: v for k in FILTER_ARGS if (v := (request.args.get(k) or "").strip()[:40])}


@bp.get("/audit", endpoint="audit_log")
@login_required
def audit_log_page():
    require("manage_users")
    form, valid, filters = _audit_form()
    page = db.paginate(audit_log.query(filters), page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_page(
        "admin/audit.html",
        "audit_results",
        status=200 if valid else 422,
        form=form,
        page=page,
        entries=audit_log.describe(page.items, filters.zone),
        filter_args=_filter_args(),
    )


@bp.get("/audit.csv")
@login_required
def audit_csv():
    """The entries the filters select (all pages), as a spreadsheet file."""
    require("manage_users")
    form, valid, filters = _audit_form()
    if not valid:
        page = db.paginate(audit_log.query(filters), page=1, per_page=PER_PAGE, error_out=False)
        return render_page(
            "admin/audit.html",
            None,
            status=422,
            form=form,
            page=page,
            entries=audit_log.describe(page.items, filters.zone),
            filter_args=_filter_args(),
        )
    body = "\ufeff" + audit_log.to_csv(filters)  # the mark tells spreadsheet programs it is UTF-8
    name = f"audit-log-{utcnow():%Y-%m-%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
