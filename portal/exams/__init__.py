"""The written test: item bank (GIFT and CSV import/export), offerings with a blueprint,
attempts with autosave and a server-side deadline, scoring, review and item analysis.

Plain modules (no Flask): gift.py (the GIFT parser/writer), analysis.py (item statistics),
draw.py (blueprint draws), scoring.py, results.py (best_attempt for certification).
"""

from flask import Blueprint

bp = Blueprint("exams", __name__)

from portal.exams import bank_routes, offering_routes, take_routes, tasks  # noqa: E402, F401
