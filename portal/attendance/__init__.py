"""Attendance: the live session page, self check-in with a rotating code, the facilitator's
roll (printable, CSV), make-ups in another cohort, hours toward the twelve, and feedback after
each session.

Plain modules hold the rules: codes (rotating check-in codes), rules (marks and minutes),
hours (the per-trainee summary the certification issue reads), roll (the roll and check-in
against the database), makeups, feedback. Route modules import only `bp` and those.
"""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from portal.attendance import feedback_routes, makeup_routes, routes  # noqa: E402, F401
