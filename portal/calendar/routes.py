"""Each person's private calendar feed, at a secret address they can replace."""

from __future__ import annotations

import secrets

from flask import abort, current_app, request, url_for
from flask_login import current_user, login_required

from portal import audit
from portal.authz import require, visible_sessions
from portal.calendar import bp
from portal.calendar.ics import build
from portal.extensions import db, limiter
from portal.models import CalendarFeed, User
from portal.web import redirect_to, render_page, say_here


def _feed_of(user: User) -> CalendarFeed | None:
    return db.session.execute(db.select(CalendarFeed).where(CalendarFeed.user_id == user.id)).scalar_one_or_none()


@bp.get("")
@login_required
def page():
    require("own_account")
    feed = _feed_of(current_user)
    url = None
    if feed is not None:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        url = base + url_for("calendar.feed", token=feed.token)
    return render_page("cohorts/calendar.html", None, feed=feed, url=url, sessions=visible_sessions(current_user))


@bp.post("/link")
@login_required
def new_link():
    require("own_account")
    feed = _feed_of(current_user)
    if feed is None:
        db.session.add(CalendarFeed(user_id=current_user.id, token=secrets.token_urlsafe(32)))
        say_here("feed", "Your calendar address is ready. Add it to your calendar app.")
    else:
        feed.token = secrets.token_urlsafe(32)
        audit.record(current_user, "calendar.regenerated", current_user)
        say_here("feed", "You have a new calendar address. The old one no longer works.")
    db.session.commit()
    return redirect_to(url_for("calendar.page", _anchor="feed-message"))


@bp.get("/<token>.ics")
@limiter.limit("120 per hour")
def feed(token: str):
    row = db.session.execute(db.select(CalendarFeed).where(CalendarFeed.token == token)).scalar_one_or_none()
    if row is None or len(token) < 20:
        abort(404)
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        abort(404)
    body = build(visible_sessions(user), "Peer Support Certification", request.host.split(":")[0])
    return current_app.response_class(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
