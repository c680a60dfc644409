"""Search (issue 13): posts and thread titles the person may read, on SQLite (FTS5) or
PostgreSQL (full-text search) behind one interface in portal.search.index."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from portal.search import routes  # noqa: E402, F401
