"""A person's own profile and password.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from portal.account import routes  # noqa: E402, F401
