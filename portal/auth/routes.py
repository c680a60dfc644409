"""Signing in and out, forgotten passwords, and accepting an invitation."""

from __future__ import annotations

from flask import current_app, flash, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal import audit, people
from portal.auth import bp, tokens
from portal.auth.forms import AcceptInvitationForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from portal.auth.passwords import hash_password, verify_password
from portal.auth.sessions import end_all_sessions, end_current_session, start_session
from portal.auth.tasks import send_password_reset
from portal.extensions import db, limiter
from portal.models import utcnow
from portal.web import redirect_to, render_page, safe_next

BAD_LOGIN = (
    "That email and password do not match an active account. Check both and try again, "
    "or use “Forgot your password?” below."
)


def _failed(response) -> bool:
    return response.status_code == 422


def _account_address_key() -> str:
    """Failures count per (account, address): strangers failing elsewhere never lock a
    person out of their own account."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"account:{email}|address:{get_remote_address()}"


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
    key_func=_account_address_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account-address",
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
        # The same answer, in the same time, whether or not the address has an account: the
        # job runner looks it up and mails the link (see portal.auth.tasks).
        send_password_reset(people.normalise_email(form.email.data))
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
    form = AcceptInvitationForm(
        data={"display_name": user.display_name, "time_zone": _guessed_zone(user)} if request.method == "GET" else None
    )
    form.email_for_check = user.email
    if form.validate_on_submit():
        if not tokens.consume(row):
            db.session.rollback()
            return render_template("auth/link_invalid.html", what="invitation"), 410
        if current_user.is_authenticated:
            end_current_session(current_user)
        user.display_name = form.display_name.data.strip()
        user.time_zone = form.time_zone.data
        user.shares_contact = bool(form.shares_contact.data)
        user.password_hash = hash_password(form.password.data)
        user.activated_at = user.activated_at or utcnow()
        audit.record(user, "account.activated", user)
        db.session.commit()
        start_session(user)
        flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
        return redirect_to(url_for("dashboards.home"))
    status = 422 if form.errors else 200
    return render_page(
        "auth/accept.html",
        "password_form",
        status=status,
        form=form,
        user=user,
        token=token,
        zone_guessed=request.method == "GET",
    )


def _guessed_zone(user) -> str:
    """Before the person says: their account's zone when set, else that of the cohort they
    were invited to (the browser's own zone replaces it where JavaScript runs)."""
    if user.time_zone and user.time_zone != "UTC":
        return user.time_zone
    from portal.models import Cohort, Enrollment

    zone = db.session.execute(
        db.select(Cohort.time_zone)
        .join(Enrollment, Enrollment.cohort_id == Cohort.id)
        .where(Enrollment.user_id == user.id)
        .order_by(Enrollment.added_at.desc())
        .limit(1)
    ).scalar()
    return zone or "UTC"
