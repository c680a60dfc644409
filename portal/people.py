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
    db.session.add(user)
    db.session.flush()
    audit.record(by, "account.invited", user, email=email, roles=sorted(r.value for r in roles))
    set_roles(user, roles, by)
    return user


def set_roles(user: User, roles: set[Role], by: User | None) -> None:
    """The one way roles change: every grant and every removal is an audit entry
    (`role.granted` / `role.removed`), whoever makes it and through whatever path."""
    before = user.roles
    if before == roles:
        return
    user.set_roles(roles, granted_by=by)
    for role in sorted(roles - before):
        audit.record(by, "role.granted", user, role=role.value)
    for role in sorted(before - roles):
        audit.record(by, "role.removed", user, role=role.value)


def existing_with_role(email: str, role: Role) -> tuple[User | None, str | None]:
    """For "add by email" on rosters and supervisor pages, which never change anyone's
    roles: (the active account holding `role`, None), (None, None) when the address has no
    account (invite a new one), or (None, reason) when the address belongs to an account
    that may not be used here."""
    user = find_by_email(email)
    if user is None:
        return None, None
    if user.deactivated_at is not None:
        return None, "has a deactivated account: ask an admin"
    if not user.has_role(role):
        return None, f"already has an account that is not a {role.value}: ask an admin"
    return user, None


def people_with_role(role: Role) -> list[User]:
    """Active accounts holding `role`, by name."""
    return list(
        db.session.execute(
            db.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.deactivated_at.is_(None))
            .order_by(User.display_name, User.id)
        ).scalars()
    )


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
    set_roles(user, roles, by)
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
