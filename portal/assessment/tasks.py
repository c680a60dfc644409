"""The assessment area's background work: the week-6 notice and the weekly reminder to
supervisors."""

from __future__ import annotations

from datetime import timedelta

from portal.assessment import competencies
from portal.jobs import periodic


@periodic(timedelta(days=7), day_of_week="1", hour="13", minute="0")
def remind_supervisors_weekly() -> None:
    """Mondays 13:00 UTC: one mail per supervisor whose trainees (week 6 reached) still wait
    for an answer. Once per tick across consumers (periodic), and at most once per supervisor
    per week whatever runs it (the competency_reminders rows)."""
    competencies.send_weekly_reminders()


@periodic(timedelta(minutes=15), minute="*/15")
def notify_week_six() -> None:
    """Every quarter of an hour: tell supervisors (page and mail) that a trainee of theirs has
    reached week 6, once per trainee (the week_six_notices rows), whoever runs it and however
    often."""
    competencies.send_week_six_notices()
