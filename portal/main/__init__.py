"""Routes that belong to no area: the front door and the health check.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from portal.main import routes  # noqa: E402, F401
