"""Who may do what: the one place routes and templates ask.

`can(user, action, obj)` answers for one object; `visible_*` functions scope list queries.
Routes call `require(action, obj)`, which aborts with 403 when the answer is no.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.models import Role, User


def _is(user, role: Role) -> bool:
    return bool(user) and user.is_authenticated and user.has_role(role)


def is_admin(user) -> bool:
    return _is(user, Role.ADMIN)


# action -> rule(user, obj) -> bool
RULES: dict[str, Callable[[User, object], bool]] = {
    "manage_users": lambda u, o: is_admin(u),
    "view_audit_log": lambda u, o: is_admin(u),
    "dashboard": lambda u, role: _is(u, Role(role)),
}


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
