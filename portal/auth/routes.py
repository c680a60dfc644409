"""Signing in and out, forgotten passwords, and accepting an invitation."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal import audit, mail, people
from portal.auth import tokens
from portal.auth.forms import AcceptInvitationForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from portal.auth.passwords import hash_password, verify_password
from portal.auth.sessions import end_all_sessions, end_current_session, start_session
from portal.extensions import db, limiter
from portal.models import utcnow
from portal.web import external_url, redirect_to, render_page, safe_next

bp = Blueprint("auth", __name__)

BAD_LOGIN = (
    "That email and password do not match an active account. Check both and try again, "
    "or use “Forgot your password?” below."
)


def _failed(response) -> bool:
    return response.status_code == 422


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
def login():
    next_url = safe_next(request.args.get("next"), url_for("dashboards.home"))
    if current_user.is_authenticated:
        return redirect_to(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        user = people.find_by_email(form.email.data)
        ok = verify_password(user.password_hash if user else None, form.password.data)
        if ok and user is not None and user.is_active:
            start_session(user)
            return redirect_to(next_url)
        form.password.errors.append(BAD_LOGIN)
    status = 422 if form.errors else 200
    return render_page("auth/login.html", "login_form", status=status, form=form, next_url=next_url)


@bp.post("/logout")
def logout():
    end_current_session(current_user if current_user.is_authenticated else None)
    flash("You are signed out.", "info")
    return redirect_to(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="forgot-password")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = people.find_by_email(form.email.data)
        if user is not None and user.is_active and user.password_hash:
            max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
            token = tokens.issue("reset", user, max_age)
            db.session.commit()
            mail.send(
                user.email,
                "Reset your password",
                "mail/password_reset.txt",
                user=user,
                link=external_url("auth.reset_password", token=token),
                minutes=int(max_age.total_seconds() // 60),
            )
        return render_template("auth/forgot_sent.html", email=form.email.data)
    status = 422 if form.errors else 200
    return render_page("auth/forgot.html", "forgot_form", status=status, form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], scope="reset-password")
def reset_password(token: str):
    row = tokens.peek("reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    if row is None:
        return render_template("auth/link_invalid.html", what="password reset"), 410
    user = row.user
    form = NewPasswordForm()
    form.email_for_check = user.email
    if form.validate_on_submit():
        if not tokens.consume(row) or not user.is_active:
            db.session.rollback()
            return render_template("auth/link_invalid.html", what="password reset"), 410
        user.password_hash = hash_password(form.password.data)
        end_all_sessions(user, "password reset")
        audit.record(user, "password.reset", user)
        db.session.commit()
        start_session(user)
        flash("Your new password is saved and you are signed in.", "success")
        return redirect_to(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_page("auth/reset.html", "password_form", status=status, form=form, user=user, token=token)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], scope="invitation")
def accept_invitation(token: str):
    row = tokens.peek("invite", token, current_app.config["INVITATION_MAX_AGE"])
    if row is None or not row.user.is_active:
        return render_template("auth/link_invalid.html", what="invitation"), 410
    user = row.user
    form = AcceptInvitationForm(data={"display_name": user.display_name} if request.method == "GET" else None)
    form.email_for_check = user.email
    if form.validate_on_submit():
        if not tokens.consume(row):
            db.session.rollback()
            return render_template("auth/link_invalid.html", what="invitation"), 410
        if current_user.is_authenticated:
            end_current_session(current_user)
        user.display_name = form.display_name.data.strip()
        user.password_hash = hash_password(form.password.data)
        user.activated_at = user.activated_at or utcnow()
        audit.record(user, "account.activated", user)
        db.session.commit()
        start_session(user)
        flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
        return redirect_to(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_page("auth/accept.html", "password_form", status=status, form=form, user=user, token=token)
