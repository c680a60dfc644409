"""Who may do what: the one place routes and templates ask.

`can(user, action, obj)` answers for one object; `visible_*` functions scope list queries.
Routes call `require(action, obj)`, which aborts with 403 when the answer is no.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import or_

from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    Dyad,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Role,
    User,
)


def _is(user, role: Role) -> bool:
    return bool(user) and user.is_authenticated and user.has_role(role)


def is_admin(user) -> bool:
    return _is(user, Role.ADMIN)


def facilitates(user, cohort: Cohort) -> bool:
    return _is(user, Role.FACILITATOR) and any(link.user_id == user.id for link in cohort.facilitator_links)


def enrollment_status(user, cohort: Cohort) -> str | None:
    """The person's place in the cohort (enrolled, waitlisted, withdrawn) or None; one query
    per cohort and request."""
    cache = g.setdefault("_enrollment_status", {})
    key = (user.id, cohort.id)
    if key not in cache:
        cache[key] = db.session.execute(
            db.select(Enrollment.status).where(Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id)
        ).scalar_one_or_none()
    return cache[key]


def takes_part(user, cohort: Cohort) -> bool:
    return enrollment_status(user, cohort) in (EnrollmentStatus.ENROLLED.value, EnrollmentStatus.WAITLISTED.value)


def _view_cohort(u, cohort: Cohort) -> bool:
    return is_admin(u) or facilitates(u, cohort) or takes_part(u, cohort)


def _manage_cohort(u, cohort: Cohort) -> bool:
    return is_admin(u) or facilitates(u, cohort)


def _download_handout(u, handout: Handout) -> bool:
    if handout.removed_at is not None:
        return is_admin(u)
    if handout.cohort_id is None:  # a programme handout: everyone taking part anywhere
        return bool(u.roles & {Role.ADMIN, Role.FACILITATOR, Role.TRAINEE})
    return _view_cohort(u, db.session.get(Cohort, handout.cohort_id))


def _view_dyad(u, dyad: Dyad) -> bool:
    """The hook for the boards issue: a dyad's private thread is read by its members only
    (people who left a dyad keep reading what was written while they were in it)."""
    return any(m.user_id == u.id for m in dyad.members)


def _remove_handout(u, handout: Handout) -> bool:
    if handout.cohort_id is None:
        return is_admin(u)
    return _manage_cohort(u, db.session.get(Cohort, handout.cohort_id))


# action -> rule(user, obj) -> bool
RULES: dict[str, Callable[[User, object], bool]] = {
    "manage_users": lambda u, o: is_admin(u),
    "dashboard": lambda u, role: _is(u, Role(role)),
    "create_cohort": lambda u, o: is_admin(u),
    "list_cohorts": lambda u, o: is_admin(u) or _is(u, Role.FACILITATOR),
    "administer_cohort": lambda u, cohort: is_admin(u),
    "view_cohort": _view_cohort,
    "manage_cohort": _manage_cohort,
    "view_session": lambda u, session: _view_cohort(u, session.cohort),
    "reschedule_session": lambda u, session: _manage_cohort(u, session.cohort),
    "download_handout": _download_handout,
    "remove_handout": _remove_handout,
    "add_programme_handout": lambda u, o: is_admin(u),
    "view_dyad": _view_dyad,
}


def visible_cohorts(user):
    """A query of the cohorts this person may open (admins: all)."""
    query = db.select(Cohort)
    if is_admin(user):
        return query
    facilitated = db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == user.id)
    taking_part = db.select(Enrollment.cohort_id).where(
        Enrollment.user_id == user.id,
        Enrollment.status.in_([EnrollmentStatus.ENROLLED.value, EnrollmentStatus.WAITLISTED.value]),
    )
    return query.where(or_(Cohort.id.in_(facilitated), Cohort.id.in_(taking_part)))


def session_of(session_id: int) -> CohortSession:
    session = db.session.get(CohortSession, session_id)
    if session is None:
        abort(404)
    return session


def can(user, action: str, obj: object = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"unknown action {action!r}")
    return bool(rule(user, obj))


def require(action: str, obj: object = None) -> None:
    if not can(current_user, action, obj):
        abort(403)


def role_required(role: Role):
    """Sign-in, then one role, for routes that act on no single object."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
