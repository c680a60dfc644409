"""Directory rules without Flask: one's own entry, the listing (only people who opted in, on
active accounts), filters by region and interest, pages. The listing selects named columns
only: an email or a phone number is never read, so it cannot be shown."""

from __future__ import annotations

from dataclasses import dataclass

from portal.extensions import db
from portal.models import DirectoryEntry, User, utcnow

PAGE_SIZE = 20


def certification_status(user_id: int) -> str:
    """"Certified" once the certification area says the certificate is issued; "" until
    that area exists (portal.assessment.competencies.certificate_issued is its hook)."""
    try:
        from portal.assessment.competencies import certificate_issued
    except ImportError:
        return ""
    return "Certified" if certificate_issued(user_id) else ""


def entry_of(user_id: int) -> DirectoryEntry | None:
    return db.session.execute(db.select(DirectoryEntry).where(DirectoryEntry.user_id == user_id)).scalar_one_or_none()


def save(user_id: int, *, listed: bool, region: str, interests: str, open_to_networking: bool, intro: str):
    entry = entry_of(user_id)
    if entry is None:
        entry = DirectoryEntry(user_id=user_id)
        db.session.add(entry)
    entry.listed, entry.region, entry.interests = listed, region.strip(), clean_interests(interests)
    entry.open_to_networking, entry.intro, entry.updated_at = open_to_networking, intro.strip(), utcnow()
    return entry


def clean_interests(value: str) -> str:
    """Comma-separated, each trimmed, no repeats, in the order given."""
    seen: list[str] = []
    for part in (value or "").split(","):
        part = " ".join(part.split())
        if part and part.lower() not in {s.lower() for s in seen}:
            seen.append(part)
    return ", ".join(seen)


@dataclass
class Listing:
    rows: list
    page: int
    more: bool


def _listed():
    return (
        db.select(
            User.id,
            User.display_name,
            User.pronouns,
            DirectoryEntry.region,
            DirectoryEntry.interests,
            DirectoryEntry.open_to_networking,
            DirectoryEntry.intro,
        )
        .join(DirectoryEntry, DirectoryEntry.user_id == User.id)
        .where(DirectoryEntry.listed.is_(True), User.deactivated_at.is_(None), User.activated_at.is_not(None))
    )


def listing(region: str | None, interest: str | None, page: int) -> Listing:
    query = _listed()
    if region:
        query = query.where(DirectoryEntry.region == region)
    if interest:
        escaped = interest.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(db.func.lower(DirectoryEntry.interests).like(f"%{escaped}%", escape="\\"))
    rows = db.session.execute(
        query.order_by(User.display_name, User.id).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return Listing(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE)


def regions() -> list[str]:
    return list(
        db.session.execute(
            db.select(DirectoryEntry.region)
            .join(User, User.id == DirectoryEntry.user_id)
            .where(DirectoryEntry.listed.is_(True), DirectoryEntry.region != "", User.deactivated_at.is_(None))
            .distinct()
            .order_by(DirectoryEntry.region)
        ).scalars()
    )
