"""Routes that belong to no area: the front door and the health check."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db, limiter
from portal.main import bp


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("dashboards.home"))
    return render_template("main/index.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
