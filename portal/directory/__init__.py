"""The member directory (issue 13): opt-in entries (off by default) with name, pronouns,
region, interests, "open to networking", certification status and a short introduction;
filters and pages; a direct message from an entry. Never an email or a phone number."""

from flask import Blueprint

bp = Blueprint("directory", __name__)

from portal.directory import routes  # noqa: E402, F401
