"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

from portal.authz import can
from portal.cohorts.schedule import JOIN_OPENS_BEFORE, join_is_open
from portal.models import Role


def viewer_zone(user=None) -> ZoneInfo:
    user = user if user is not None else current_user
    name = getattr(user, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%a %-d %b %Y, %H:%M", zone: str | None = None) -> str:
    """A UTC timestamp in the viewer's own zone, with the zone named."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else viewer_zone()
    local = value.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname()}"


def help_line() -> str:
    """Where to turn for help, for the reader's role: trainees ask their facilitator;
    facilitators and supervisors the programme team; admins are the programme team."""
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return "Need help signing in? Write to the programme team, or use “Forgot your password?”."
    if user.has_role(Role.ADMIN):
        return "You are the programme team: the audit log shows who changed what."
    if user.has_role(Role.FACILITATOR) or user.has_role(Role.SUPERVISOR):
        return "Need help? Ask the programme team."
    return "Need help? Ask your facilitator or the programme team."


def _macros(app: Flask):
    """The macros of _macros/forms.html as globals: a block rendered alone by jinja2-fragments
    does not see the page's `{% from ... import %}` lines, so the macros live here. The
    template module is made once per app (again only when templates auto-reload)."""
    module = None

    def macro(name: str):
        def call(*args, **kwargs):
            nonlocal module
            if module is None or app.jinja_env.auto_reload:
                module = app.jinja_env.get_template("_macros/forms.html").module
            return getattr(module, name)(*args, **kwargs)

        call.__name__ = name
        return call

    return {name: macro(name) for name in ("field", "error_summary", "place_message")}


def _static_versions(app: Flask):
    """url_for('static', ...) gets ?v=<content hash>, so browsers may keep static files for a
    year (kind to slow connections) and still fetch a new version the moment it changes."""
    import hashlib
    from pathlib import Path

    cache: dict[str, str] = {}

    def add_version(endpoint, values):
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        name = values["filename"]
        if app.debug or name not in cache:
            path = Path(app.static_folder) / name
            cache[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else ""
        if cache[name]:
            values["v"] = cache[name]

    return add_version


ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # what Flask's url_for leaves unquoted in an #anchor


def _template_url_for(app: Flask):
    """url_for in templates, for pages that link every row of a list: within a request, an
    address is built by the request's URL adapter directly (Flask's url_for also looks up
    URL defaults, which only static files have here, and blueprint-relative names); the
    addresses that take no values (the navigation's links) and the static files (with their
    version) are built once per app and path prefix. Anything else (_external, _scheme,
    relative endpoints, no request, debug mode) goes to Flask's url_for as it is."""
    from urllib.parse import quote

    from flask import has_request_context, request
    from flask.globals import request_ctx

    build = app.url_for
    built: dict[tuple, str] = {}

    def url_for(endpoint: str, _anchor: str | None = None, **values) -> str:
        if (
            app.debug
            or endpoint[0] == "."
            or (endpoint == "static" and values.keys() != {"filename"})
            or any(k[0] == "_" for k in values)
            or not has_request_context()
        ):
            return build(endpoint, _anchor=_anchor, **values)
        if values and endpoint != "static":  # a row's link: built each time
            url = request_ctx.url_adapter.build(endpoint, values)
        else:
            key = (request.script_root, endpoint, values.get("filename"))
            url = built.get(key)
            if url is None:
                url = build(endpoint, **values)
                if len(built) < 1000:  # a prefix sent by a proxy's client never grows it without end
                    built[key] = url
        if _anchor is not None:
            url = f"{url}#{quote(_anchor, safe=ANCHOR_SAFE)}"
        return url

    return url_for


def register(app: Flask) -> None:
    app.url_defaults(_static_versions(app))
    app.jinja_env.globals["url_for"] = _template_url_for(app)
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    app.jinja_env.globals.update(_macros(app))
    app.jinja_env.filters["localtime"] = localtime
    from portal.cohorts.notify import recent_notices

    app.jinja_env.globals.update(
        recent_notices=recent_notices,
        help_line=help_line,
        can=can,
        Role=Role,
        join_is_open=join_is_open,
        join_opens_minutes=int(JOIN_OPENS_BEFORE.total_seconds() // 60),
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
