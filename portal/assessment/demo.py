"""Demo data of the assessment area: the default checklist, and in Spring Cohort A
supervisor1 has confirmed competencies 1-5 for trainee01 and declined one for trainee02."""

from __future__ import annotations

from portal.assessment import checklists, competencies
from portal.models import User


def seed_demo(people: dict[str, User]) -> None:
    admin = people.get("admin@example.org")
    checklists.ensure_default(admin)
    supervisor = people["supervisor1@example.org"]
    competencies.decide(
        people["trainee01@example.org"].id,
        [1, 2, 3, 4, 5],
        competencies.CONFIRMED,
        "Seen in our weekly text-support shifts: consent, secure video set-up and clear written replies.",
        supervisor,
    )
    competencies.decide(
        people["trainee02@example.org"].id,
        [7],
        competencies.DECLINED,
        "I have not yet seen you follow our crisis protocol in a digital conversation; let's shadow one together.",
        supervisor,
    )
