"""The exams' job: submit attempts left open at their deadline, every minute."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic


@periodic(timedelta(minutes=1), minute="*")
def close_due_exam_attempts() -> None:
    """Attempts still open at their deadline (a closed tab, a lost connection) are submitted
    with what was saved. Idempotent: submitting is an UPDATE ... WHERE status = 'open'."""
    from portal.exams.attempts import close_due_attempts

    close_due_attempts()
