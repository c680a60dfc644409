"""The programme team's pages: accounts, invitations and the audit log.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import routes  # noqa: E402, F401
