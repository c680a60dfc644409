"""Cohorts: the list, each cohort's page and settings, its schedule, roster and waitlist,
practice pairs and handouts.

The blueprint of the area; each part has its own route module registering on it. Rules that
are more than handling a request live in plain modules: schedule, roster, pairing, dyads,
handouts, manage. `pages` holds what the route modules share.
"""

from flask import Blueprint

bp = Blueprint("cohorts", __name__)

from portal.cohorts import dyad_routes, handout_routes, roster_routes, routes, session_routes  # noqa: E402, F401
