"""Small helpers shared by every route: page-or-fragment rendering and redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, get_flashed_messages, redirect, render_template, request, url_for
from htmx_flask import make_response
from jinja2_fragments.flask import render_block

from portal.extensions import db


def wants_fragment() -> bool:
    """An htmx swap of part of the page (not a boosted whole-page navigation)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render_page(template: str, block: str | None = None, status: int = 200, **context):
    """The whole page for a normal or boosted request; only `block` for an htmx swap."""
    if block and wants_fragment():
        response = make_response(render_block(template, block, **context), status)
    else:
        response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str):
    """After a successful POST: 303 for a plain request, HX-Redirect for an htmx swap."""
    if wants_fragment():
        return make_response("", 204, redirect=location)
    return redirect(location, code=303)


def safe_next(target: str | None, fallback: str) -> str:
    """Only ever a path of this site: absolute URLs, //host and backslash tricks are ignored."""
    if not target:
        return fallback
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return fallback
    return target


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def flashes_oob() -> str:
    """Pending flash messages as an out-of-band swap into #messages (for htmx fragments)."""
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return render_template("_messages.html", messages=messages, oob=True)


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mail, on PUBLIC_BASE_URL (not the request's own host header)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)
