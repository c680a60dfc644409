"""Helpers for the written test's tests: a bank of items, an open offering, attempts."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.exams import bank
from portal.extensions import db
from portal.models import Offering, utcnow

RATIONALE = "RATIONALE-{week}-{n}-kept-secret"
FEEDBACK = "FEEDBACK-{week}-{n}-kept-secret"


def make_bank(app, per_week=(9, 9, 9, 9, 8, 8), status="active"):
    """Active items over six weeks, every competency present; each right option's text is
    'Right w.n' (tests see it only through the database) and rationales are marked."""
    with app.app_context():
        for week, count in enumerate(per_week, start=1):
            for n in range(count):
                competency = (week * 3 + n) % 10 + 1
                options = [
                    {
                        "text": f"Option {k} of item {week}.{n}",
                        "correct": k == n % 4,
                        "feedback": FEEDBACK.format(week=week, n=n) if k == n % 4 else "",
                    }
                    for k in range(4)
                ]
                bank.save(
                    bank.Draft(
                        title=f"Item {week}.{n}",
                        stem=f"Question about week {week}, number {n}?",
                        options=options,
                        rationale=RATIONALE.format(week=week, n=n),
                        week=week,
                        competency=competency,
                        status=status,
                    ),
                    None,
                )
        db.session.commit()


def open_offering(app, cohort_id, **fields):
    with app.app_context():
        now = utcnow()
        values = dict(
            kind="cohort",
            cohort_id=cohort_id,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=7),
            time_limit_minutes=60,
            attempts_allowed=2,
            wait_hours=24,
            blueprint=[7, 7, 7, 7, 6, 6],
            required_competencies=[],
        )
        values.update(fields)
        offering = Offering(**values)
        db.session.add(offering)
        db.session.commit()
        return offering.id


def start(client, offering_id):
    response = client.post(f"/exams/offerings/{offering_id}/start")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.search(r"/exams/attempts/(\d+)", response.headers["Location"])
    return int(match.group(1))


def shown_items(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'name="items" value="(\d+)"', html)]
