"""What the certification reads: a person's best passing attempt.

    from portal.exams.results import best_attempt
    attempt = best_attempt(user_id)   # an Attempt (submitted, passed) or None

The best is the highest score among submitted, passing attempts in any offering (a cohort's
window now, a self-paced enrolment later); of equal scores, the earliest. Attempts still
open, or past their deadline but not yet swept by the job runner, do not count until they
are submitted.
"""

from __future__ import annotations

from portal.extensions import db
from portal.models import Attempt, AttemptStatus


def best_attempt(user_id: int) -> Attempt | None:
    return db.session.execute(
        db.select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.status == AttemptStatus.SUBMITTED.value, Attempt.passed.is_(True))
        .order_by(Attempt.correct.desc(), Attempt.submitted_at, Attempt.id)
        .limit(1)
    ).scalar_one_or_none()
