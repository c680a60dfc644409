"""Direct messages (issue 13): private threads between two or a few members, blocks and
reports; admins read only reported messages (with their context). Rules in core."""

from flask import Blueprint

bp = Blueprint("messages", __name__)

from portal.messages import routes  # noqa: E402, F401
