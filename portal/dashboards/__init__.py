"""Each role's landing page.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("dashboards", __name__, url_prefix="/dashboard")

from portal.dashboards import routes  # noqa: E402, F401
