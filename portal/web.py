"""Small helpers shared by every route: page-or-fragment rendering and redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
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


MAX_PAGE = 100_000


def page_number() -> int:
    """?page= of a paged list: a whole number from 1 (anything else is page 1)."""
    from portal.inputs import optional_record_id

    number = optional_record_id(request.args.get("page"))
    return number if number is not None and number <= MAX_PAGE else 1


class RowsPage:
    """One page of a list read as rows (named columns, not whole objects), with what the
    pager shows: page, pages, total, has_prev/prev_num, has_next/next_num (the names of
    Flask-SQLAlchemy's pagination, which only pages whole objects)."""

    def __init__(self, query, page: int, per_page: int, count=None):
        """`count`: a statement counting the rows (by default, the query's rows are counted)."""
        from sqlalchemy import func, select

        self.page, self.per_page = page, per_page
        count = count if count is not None else select(func.count()).select_from(query.order_by(None).subquery())
        from portal.models import read_rows

        self.total = read_rows(db.session, count).scalar_one()
        self.items = read_rows(db.session, query.limit(per_page).offset((page - 1) * per_page)).all()
        self.pages = max(1, -(-self.total // per_page))
        self.has_prev, self.prev_num = page > 1, page - 1
        self.has_next, self.next_num = page < self.pages, page + 1


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def say_here(place: str, message: str, category: str = "success") -> None:
    """A message for the section `place` of the next page (or of the fragment this request
    renders): shown next to the control that was used, by the `place_message(place)` macro,
    not in the message area at the top. Categories carry the place after a space."""
    flash(message, f"{category} {place}")


def flashes_oob() -> str:
    """Pending flash messages as an out-of-band swap into #messages (for htmx fragments)."""
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return render_template("_messages.html", messages=messages, oob=True)


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mail, on PUBLIC_BASE_URL (not the request's own host header);
    also from a background job, where there is no request."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return base + url_for(endpoint, **values)


def path_for(endpoint: str, **values) -> str:
    """A site-relative link (for a dashboard note), also from a job or a command."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def refuse_control_characters():
    """before_request: a NUL or other control character in the path or the query string is
    a bad request (400) before any route sees it (PostgreSQL cannot even compare such text).
    Form fields are checked by the input policy, with the message next to the field."""
    from portal.inputs import single_line_problem

    if single_line_problem(request.path) or any(
        single_line_problem(key) or single_line_problem(value) for key, value in request.args.items(multi=True)
    ):
        abort(400)
