"""Peer networking boards: a private board per cohort, one community board, a private board
per practice pair; threads and Markdown posts (through portal.markup), the new-reply poll,
guidelines and consent, reports, crisis phrases and moderation.

Rules live in plain modules: posting (boards, posts, crisis phrases, rate limits, moderation)
and pages (what the pages read, by keyset); who reads what is in portal.authz.
"""

from flask import Blueprint

bp = Blueprint("boards", __name__)

from portal.boards import moderation_routes, routes, topic_routes  # noqa: E402, F401
