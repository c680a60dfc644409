"""Signing in and out, forgotten passwords, and accepting an invitation.

The blueprint of the area; its route modules register their routes on it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import routes  # noqa: E402, F401
