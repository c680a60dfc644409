"""Error pages in the portal's own look, as whole pages or as htmx alerts."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from htmx_flask import make_response
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db, login_manager
from portal.web import safe_next, wants_fragment

TITLES = {
    400: "That request could not be read",
    403: "You do not have access to this",
    404: "We could not find that page",
    405: "That action is not available here",
    413: "That file is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}
EXPLANATIONS = {
    400: "Please go back and try again.",
    403: "If you think you should, ask your facilitator or the programme team.",
    404: "The link may be old, or the item may have been moved.",
    405: "Please use the buttons on the page.",
    413: "Files can be at most 20 MB.",
    429: "For your safety we paused this for a few minutes. Please wait, then try again.",
    500: "The programme team has been told. Please try again in a moment.",
}
# Never re-sent by the stale-token page: secrets stay out of the HTML.
_NOT_RESENT = {"csrf_token", "password", "new_password", "current_password", "confirm"}


def _render(code: int, template: str = "errors/error.html", trigger: dict | None = None, **context):
    context.setdefault("title", TITLES.get(code, "Something went wrong"))
    context.setdefault("explanation", EXPLANATIONS.get(code, ""))
    context.setdefault("code", code)
    if wants_fragment():
        html = render_block(template, "alert", fragment=True, **context)
        response = make_response(html, code, retarget="#messages", reswap="innerHTML", trigger=trigger)
    else:
        response = make_response(render_template(template, fragment=False, **context), code)
    response.vary.add("HX-Request")
    return response


def page(code: int, title: str, explanation: str):
    """An error response in the portal's look (whole page, or an htmx alert) that says what
    happened in this case, for abort()."""
    return _render(code, title=title, explanation=explanation)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # A forged request must never be one click from success: the page that re-sends what
        # was typed with a fresh token is offered only to a request that demonstrably came
        # from one of our own pages (Origin or Referer of this site), and never for the admin
        # pages (roles, deactivation). Anything else is a plain 400 that changes nothing and
        # leaves the person's session as it was.
        if not _from_our_pages() or request.blueprint == "admin":
            return _render(
                400,
                "errors/refused.html",
                title="This request was refused",
                explanation="It did not come from a page of the portal, or the page was too old. "
                "Nothing was changed. Please open the page again and repeat what you did.",
            )
        # A stale token on our own page: say so plainly and offer the same entries again with
        # a fresh token, so nothing typed is lost (passwords are never echoed back).
        fields = [(key, value) for key, values in request.form.lists() if key not in _NOT_RESENT for value in values]
        # For htmx, portal.js puts the fresh token into the page, so pressing again works.
        return _render(
            400,
            "errors/csrf.html",
            trigger={"portal:csrf": {"token": generate_csrf()}} if wants_fragment() else None,
            title="This form had expired",
            explanation="For your safety, forms stop working after a while or after signing out.",
            fields=fields,
            action=request.full_path if request.query_string else request.path,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = _render(error.code)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)

    @app.errorhandler(InternalServerError)
    def internal(error):
        db.session.rollback()
        return _render(500)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for

        if request.htmx:
            # htmx does not follow a 3xx into a fragment: send the whole page to sign-in.
            current = request.htmx.current_url or request.full_path
            from urllib.parse import urlsplit

            parts = urlsplit(current)
            here = parts.path + (f"?{parts.query}" if parts.query else "")
            target = url_for("auth.login", next=safe_next(here, "/"))
            return make_response("", 401, redirect=target)
        flash("Please sign in to continue.", "info")
        return redirect(url_for("auth.login", next=safe_next(request.full_path.rstrip("?"), "/")))

    @app.after_request
    def add_flashes_to_fragments(response):
        from portal.web import flashes_oob

        if (
            wants_fragment()
            and response.mimetype == "text/html"
            and "HX-Redirect" not in response.headers
            and response.status_code < 300
            and current_user_has_flashes()
        ):
            response.set_data(response.get_data(as_text=True) + flashes_oob())
        return response


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _from_our_pages() -> bool:
    """The request's Origin (or, without one, its Referer) is this site: the address it was
    asked on, or PUBLIC_BASE_URL."""
    from flask import current_app

    ours = {_origin(request.host_url), _origin(current_app.config.get("PUBLIC_BASE_URL"))} - {None}
    origin = request.headers.get("Origin")
    if origin is not None:
        return _origin(origin) in ours
    return _origin(request.headers.get("Referer")) in ours


def current_user_has_flashes() -> bool:
    from flask import session

    return bool(session.get("_flashes"))
