"""A person's own profile and password."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required

from portal import audit
from portal.account import bp
from portal.account.forms import ProfileForm
from portal.auth.forms import ChangePasswordForm
from portal.auth.passwords import hash_password, verify_password
from portal.auth.sessions import end_all_sessions
from portal.authz import require
from portal.extensions import db
from portal.web import redirect_to, render_page, say_here, wants_fragment


@bp.route("", methods=["GET", "POST"])
@login_required
def profile():
    require("own_account")
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        user.display_name = form.display_name.data.strip()
        user.pronouns = (form.pronouns.data or "").strip() or None
        user.time_zone = form.time_zone.data
        user.phone = (form.phone.data or "").strip() or None
        user.organisation = (form.organisation.data or "").strip() or None
        user.shares_contact = bool(form.shares_contact.data)
        db.session.commit()
        say_here("profile", "Your details are saved.")
        if not wants_fragment():
            return redirect_to(url_for("account.profile", _anchor="profile-message"))
    status = 422 if form.errors else 200
    return render_page("account/profile.html", "profile_form", status=status, form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    require("own_account")
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    form.email_for_check = user.email
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
            user.password_hash = hash_password(form.password.data)
            end_all_sessions(user, "password changed", except_token=user.session_token)
            audit.record(user, "password.changed", user)
            db.session.commit()
            say_here("password", "Your password is changed. Other devices were signed out.")
            return redirect_to(url_for("account.profile", _anchor="password-message"))
    status = 422 if form.errors else 200
    return render_page("account/password.html", "password_form", status=status, form=form)
