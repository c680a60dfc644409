"""Account changes that several areas share: inviting, roles, deactivation.

No Flask request handling here; callers commit.
"""

from __future__ import annotations

from sqlalchemy import func, or_

from portal import audit
from portal.auth.sessions import end_all_sessions
from portal.extensions import db
from portal.models import Role, User, UserRole, utcnow


class AccountError(ValueError):
    """A change refused for a reason the person asking should read."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def matching(text: str):
    """SQL condition: the person's name or email contains `text` (% and _ taken literally)."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(func.lower(User.display_name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\"))


def find_by_email(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def create_invited(email: str, display_name: str | None, roles: set[Role], by: User | None) -> User:
    """A new account that cannot sign in until its invitation is accepted."""
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise AccountError(f"{email} already has an account.")
    user = User(email=email, display_name=(display_name or "").strip() or email.split("@")[0])
    user.set_roles(roles, granted_by=by)
    db.session.add(user)
    db.session.flush()
    audit.record(by, "account.invited", user, email=email, roles=sorted(r.value for r in roles))
    return user


def active_admin_count() -> int:
    return db.session.execute(
        db.select(func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.deactivated_at.is_(None))
    ).scalar_one()


def change_roles(user: User, roles: set[Role], by: User) -> None:
    before = user.roles
    if before == roles:
        return
    if Role.ADMIN in before and Role.ADMIN not in roles and user.is_active and active_admin_count() <= 1:
        raise AccountError("The portal needs at least one active admin. Make someone else an admin first.")
    user.set_roles(roles, granted_by=by)
    audit.record(
        by,
        "account.roles_changed",
        user,
        before=sorted(r.value for r in before),
        after=sorted(r.value for r in roles),
    )


def deactivate(user: User, by: User, reason: str | None = None) -> None:
    if user.deactivated_at is not None:
        return
    if user.id == by.id:
        raise AccountError("You cannot deactivate your own account.")
    if user.has_role(Role.ADMIN) and active_admin_count() <= 1:
        raise AccountError("The portal needs at least one active admin.")
    user.deactivated_at = utcnow()
    end_all_sessions(user, "deactivated")
    audit.record(by, "account.deactivated", user, reason=reason or "")


def reactivate(user: User, by: User) -> None:
    if user.deactivated_at is None:
        return
    user.deactivated_at = None
    audit.record(by, "account.reactivated", user)
