"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from flask_login import current_user

from portal.authz import can
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


def _macro(name: str):
    """A macro of _macros/forms.html as a global: a block rendered alone by jinja2-fragments
    does not see the page's `{% from ... import %}` lines, so the macros live here."""

    def call(*args, **kwargs):
        module = current_app.jinja_env.get_template("_macros/forms.html").module
        return getattr(module, name)(*args, **kwargs)

    call.__name__ = name
    return call


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


def register(app: Flask) -> None:
    app.url_defaults(_static_versions(app))
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    app.jinja_env.globals.update(field=_macro("field"), error_summary=_macro("error_summary"))
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["timedelta"] = lambda seconds: timedelta(seconds=seconds)
    app.jinja_env.globals.update(can=can, Role=Role)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
