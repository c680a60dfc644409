"""The demo's written test: the original 60-item bank (data/demo_bank.gift), active, and the
test open for the cohort that is running, for a week, with review at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal.exams import bank, gift
from portal.exams.draw import DEFAULT_BLUEPRINT
from portal.extensions import db
from portal.models import Cohort, Offering, User, utcnow

BANK = Path(__file__).parent / "data" / "demo_bank.gift"


def load_bank(actor_id: int | None = None) -> int:
    result = gift.parse(BANK.read_text(encoding="utf-8"))
    drafts = bank.drafts_from_gift(result, None, None)
    bank.match(drafts)
    for draft in drafts:
        if draft.action != "unchanged":
            bank.save(draft, actor_id, default_status="active")
    return len(drafts)


def seed_demo(people: dict[str, User]) -> None:
    admin = people.get("admin@example.org")
    load_bank(admin.id if admin else None)
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Spring Cohort A")).scalar_one_or_none()
    if cohort is not None:
        now = utcnow()
        db.session.add(
            Offering(
                kind="cohort",
                cohort_id=cohort.id,
                title="Written test (demo window)",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=7),
                blueprint=list(DEFAULT_BLUEPRINT),
                required_competencies=list(range(1, 9)),
                review_at_once=True,
                created_by_id=admin.id if admin else None,
            )
        )
    db.session.flush()
