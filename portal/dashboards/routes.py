"""Each role's landing page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.authz import role_required
from portal.models import Role

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard")


@bp.get("")
@login_required
def home():
    role = current_user.primary_role
    if role is None:
        return render_template("dashboards/no_role.html")
    return redirect(url_for(f"dashboards.{role.value}"))


@bp.get("/admin")
@role_required(Role.ADMIN)
def admin():
    return render_template("dashboards/admin.html")


@bp.get("/facilitator")
@role_required(Role.FACILITATOR)
def facilitator():
    return render_template("dashboards/facilitator.html")


@bp.get("/supervisor")
@role_required(Role.SUPERVISOR)
def supervisor():
    return render_template("dashboards/supervisor.html")


@bp.get("/trainee")
@role_required(Role.TRAINEE)
def trainee():
    return render_template("dashboards/trainee.html")
