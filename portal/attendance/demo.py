"""Demo data for attendance: Spring Cohort A's weeks 1 and 2 marked, feedback, a make-up request."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import Cohort, CohortSession, User


def seed_demo(people: dict[str, User]) -> None:
    from portal.attendance import feedback, makeups, roll

    spring = db.session.execute(db.select(Cohort).where(Cohort.name == "Spring Cohort A")).scalar_one()
    summer = db.session.execute(db.select(Cohort).where(Cohort.name == "Summer Cohort B")).scalar_one()
    fran = people["facilitator1@example.org"]
    weeks = {s.week: s for s in spring.sessions}
    trainees = [people[f"trainee{n:02d}@example.org"] for n in range(1, 7)]
    for week in (1, 2):
        s = weeks[week]
        at = s.ends_at + timedelta(minutes=5)
        for t in trainees:
            if week == 1 and t.email == "trainee02@example.org":
                roll.mark(s, t.id, "late", 100, "Joined after the introductions", fran, at)
            elif week == 2 and t.email == "trainee03@example.org":
                roll.mark(s, t.id, "absent", 0, None, fran, at)
            else:
                roll.mark(s, t.id, "present", s.duration_minutes, None, fran, at)
    db.session.flush()
    # Week 1: five answers (comments shown); week 2: three (too few to show comments).
    answers = {
        1: [
            (5, "Hearing the history of peer support", None),
            (4, "The examples of text support", "More time for questions"),
            (5, "Practising with my partner", None),
            (3, None, "Slides before the session"),
            (4, "The video game example", None),
        ],
        2: [
            (4, "The competencies handout", None),
            (5, None, "A short break halfway"),
            (4, "Small-group discussion", None),
        ],
    }
    for week, rows in answers.items():
        for t, (usefulness, helped, suggestion) in zip(trainees, rows, strict=False):
            feedback.answer(weeks[week], t.id, usefulness, helped, suggestion)
    summer_week2 = db.session.execute(
        db.select(CohortSession).where(CohortSession.cohort_id == summer.id, CohortSession.week == 2)
    ).scalar_one()
    makeups.ask(people["trainee03@example.org"], spring.id, summer_week2)
