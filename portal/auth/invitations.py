"""Mailing an invitation link: used by the admin pages and by cohort rosters."""

from __future__ import annotations

from flask import current_app

from portal import mail
from portal.auth import tokens
from portal.extensions import db
from portal.models import User
from portal.web import external_url


def send_invitation(user: User, invited_by: User | None, cohort=None) -> None:
    """Issue a fresh invitation link for `user` (earlier ones stop working) and mail it; with
    `cohort`, the mail names it and its first session in the invitee's zone. Not committed:
    the caller commits the account, its link and the mail together."""
    first_when = waiting = None
    if cohort is not None:
        from portal.cohorts.notify import first_session, in_zone
        from portal.models import Enrollment, EnrollmentStatus

        first = first_session(cohort)
        first_when = in_zone(first.starts_at, user) if first else None
        waiting = (
            db.session.execute(
                db.select(Enrollment.status).where(Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id)
            ).scalar()
            == EnrollmentStatus.WAITLISTED.value
        )
    max_age = current_app.config["INVITATION_MAX_AGE"]
    token = tokens.issue("invite", user, max_age, invited_by_id=invited_by.id if invited_by else None)
    mail.send(
        user.email,
        "You are invited to the Digital Peer Support Certification",
        "mail/invitation.txt",
        user=user,
        invited_by=invited_by,
        roles=user.ordered_roles,
        link=external_url("auth.accept_invitation", token=token),
        days=max_age.days,
        cohort=cohort,
        first_when=first_when,
        waiting=waiting,
    )
