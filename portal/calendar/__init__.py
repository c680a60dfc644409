"""Each person's private calendar feed, at a secret address they can replace; ics.py builds iCalendar files.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

from portal.calendar import routes  # noqa: E402, F401
