"""Assessment: the group oral exam checklist of week 6 and the ten competencies supervisors
confirm.

The blueprint of the area; route modules register on it. The rules live in plain modules:
`checklists` (templates in versions, the default checklist), `oral_exam` (sittings, marks with
a version check, finalise and unlock, `oral_exam_passed`), `competencies` (supervisors'
answers, reminders, `competencies_confirmed`). `pages` holds what the route modules share.
"""

from flask import Blueprint

bp = Blueprint("assessment", __name__)

from portal.assessment import checklist_routes, competency_routes, exam_routes, tasks  # noqa: E402, F401
