"""Sign-in work done by the job runner, outside the request.

"Forgot password" only enqueues `send_password_reset`: the page answers in the same time
whether or not the address has an account (no timing oracle), and the link is mailed through
the outbox by the consumer.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func

from portal import mail, people
from portal.auth import tokens
from portal.extensions import db
from portal.jobs import huey, in_app_context
from portal.models import PasswordReset, utcnow
from portal.web import external_url

RESETS_PER_HOUR = 3  # reset mails per account per hour, whoever asks


def password_reset_allowed(user_id: int) -> bool:
    recent = db.session.execute(
        db.select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user_id, PasswordReset.created_at > utcnow() - timedelta(hours=1)
        )
    ).scalar_one()
    return recent < RESETS_PER_HOUR


# A database hiccup while the consumer runs this must not lose the person's request: try again.
@huey.task(retries=3, retry_delay=20)
@in_app_context
def send_password_reset(email: str) -> None:
    """Mail a single-use reset link to an active account with a password, at most
    RESETS_PER_HOUR times an hour; for any other address, do nothing."""
    user = people.find_by_email(email)
    if user is None or not user.is_active or not user.password_hash or not password_reset_allowed(user.id):
        return
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    token = tokens.issue("reset", user, max_age)
    mail.send(
        user.email,
        "Reset your password",
        "mail/password_reset.txt",
        user=user,
        link=external_url("auth.reset_password", token=token),
        minutes=int(max_age.total_seconds() // 60),
    )
    db.session.commit()
