"""Checklist templates for the group oral exam: ordered items, each tied to one of the ten
competencies, required or not, with what "met" looks like. No Flask here; callers commit.

A version that an exam has used is never changed: editing it makes a new version (a copy with
the change), so results keep the exact items they were marked against.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from portal import audit
from portal.extensions import db
from portal.models import ChecklistItem, ChecklistTemplate, ChecklistVersion, OralExam, User


class ChecklistError(ValueError):
    pass


@dataclass(frozen=True)
class ItemText:
    competency: int
    title: str
    met_looks_like: str
    required: bool = True


# The programme's own default checklist, written for the six weeks of this certification.
DEFAULT_NAME = "Group oral exam (week 6)"
DEFAULT_ITEMS = (
    ItemText(
        1,
        "Explains a service user's right to choose how and whether to meet online",
        "Names at least two choices the person keeps (channel, time, stopping) and how they would offer them.",
    ),
    ItemText(
        1,
        "Describes what to do when a service user withdraws consent mid-conversation",
        "Stops the digital contact, confirms the person's wish, and records it without pressure to continue.",
    ),
    ItemText(
        2,
        "Sets up a secure video meeting and talks a peer through joining it",
        "Walks through waiting room, link sharing and muting in plain words, and checks the person can hear and see.",
    ),
    ItemText(
        3,
        "Compares text, phone, video and game-based support for one person's situation",
        "Picks a channel with a reason tied to the person's needs, and names one drawback of it.",
    ),
    ItemText(
        4,
        "Finds a free or low-cost way to get a service user connected",
        "Names a concrete local or public resource (device, data plan, library access) and how to reach it.",
    ),
    ItemText(
        4,
        "Adapts support for an older adult or someone with little technology experience",
        "Offers a simpler channel or step-by-step help, and checks understanding without taking over.",
        required=False,
    ),
    ItemText(
        5,
        "Shows warmth and clear boundaries in a written (text) exchange",
        "Writes a reply that reflects feelings, avoids jargon, and states when they are and are not available.",
    ),
    ItemText(
        5,
        "Reads silence and missing cues on a call or in chat",
        "Checks in about a pause or short reply instead of assuming, and names one cue that is lost online.",
    ),
    ItemText(
        6,
        "Gives and takes feedback in the dyad role-play",
        "Gives one specific strength and one suggestion to their partner, and responds openly to feedback.",
    ),
    ItemText(
        7,
        "Recognises a digital crisis and follows the escalation steps",
        "Names warning signs in a message, keeps the person engaged, and follows the service's crisis protocol.",
    ),
    ItemText(
        8,
        "Uses lived experience purposefully online",
        "Shares a short part of their recovery story with a clear purpose for the other person, then refocuses.",
    ),
    ItemText(
        9,
        "Plans their own self-care around digital work",
        "Names a limit they keep (screen time, after-hours messages) and what they do after a hard conversation.",
        required=False,
    ),
    ItemText(
        10,
        "Helps a service user judge health information found online",
        "Asks who wrote it and when, and suggests one trusted source, without giving clinical advice.",
        required=False,
    ),
)


def create_template(name: str, items, by: User | None) -> ChecklistTemplate:
    template = ChecklistTemplate(name=name, created_by_id=by.id if by else None)
    db.session.add(template)
    db.session.flush()
    version = ChecklistVersion(template_id=template.id, number=1, created_by_id=by.id if by else None)
    db.session.add(version)
    db.session.flush()
    for position, item in enumerate(items, start=1):
        db.session.add(
            ChecklistItem(
                version_id=version.id,
                position=position,
                competency=item.competency,
                title=item.title,
                met_looks_like=item.met_looks_like,
                required=item.required,
            )
        )
    db.session.flush()
    return template


def ensure_default(by: User | None = None) -> ChecklistTemplate:
    """The default checklist, created once."""
    template = db.session.execute(
        db.select(ChecklistTemplate).where(ChecklistTemplate.name == DEFAULT_NAME).limit(1)
    ).scalar_one_or_none()
    return template or create_template(DEFAULT_NAME, DEFAULT_ITEMS, by)


def current_version(template_id: int) -> ChecklistVersion | None:
    return db.session.execute(
        db.select(ChecklistVersion)
        .where(ChecklistVersion.template_id == template_id)
        .order_by(ChecklistVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def usable_templates() -> list[ChecklistTemplate]:
    """Checklists a facilitator can open an exam with: not retired, and their current version
    has a required item (the others would be refused by open_exam anyway)."""
    latest = (
        db.select(ChecklistVersion.template_id, db.func.max(ChecklistVersion.number).label("number"))
        .group_by(ChecklistVersion.template_id)
        .subquery()
    )
    has_required = (
        db.select(ChecklistItem.id)
        .where(ChecklistItem.version_id == ChecklistVersion.id, ChecklistItem.required.is_(True))
        .exists()
    )
    return list(
        db.session.execute(
            db.select(ChecklistTemplate)
            .join(latest, latest.c.template_id == ChecklistTemplate.id)
            .join(
                ChecklistVersion,
                (ChecklistVersion.template_id == ChecklistTemplate.id) & (ChecklistVersion.number == latest.c.number),
            )
            .where(ChecklistTemplate.retired_at.is_(None), has_required)
            .order_by(ChecklistTemplate.id)
        ).scalars()
    )


def version_used(version_id: int) -> bool:
    return (
        db.session.execute(db.select(OralExam.id).where(OralExam.version_id == version_id).limit(1)).first() is not None
    )


def _editable_version(template: ChecklistTemplate, by: User) -> tuple[ChecklistVersion, dict[int, ChecklistItem]]:
    """The current version when no exam used it; else a new version copying it. Returns the
    version and a map from the old item ids to the items now standing for them."""
    # Two admins editing at once queue on the template row.
    db.session.execute(db.select(ChecklistTemplate.id).where(ChecklistTemplate.id == template.id).with_for_update())
    version = current_version(template.id)
    if not version_used(version.id):
        return version, {item.id: item for item in version.items}
    new = ChecklistVersion(template_id=template.id, number=version.number + 1, created_by_id=by.id)
    db.session.add(new)
    db.session.flush()
    mapping = {}
    for item in version.items:
        copy = ChecklistItem(
            version_id=new.id,
            position=item.position,
            competency=item.competency,
            title=item.title,
            met_looks_like=item.met_looks_like,
            required=item.required,
        )
        db.session.add(copy)
        mapping[item.id] = copy
    db.session.flush()
    db.session.refresh(new)
    return new, mapping


def _check(item: ItemText) -> None:
    if not 1 <= item.competency <= 10:
        raise ChecklistError("Choose one of the ten competencies.")
    if not item.title.strip():
        raise ChecklistError("Write what the trainee shows.")


def edit_item(template: ChecklistTemplate, item_id: int, change: ItemText, by: User) -> ChecklistVersion:
    _check(change)
    version, mapping = _editable_version(template, by)
    item = mapping.get(item_id)
    if item is None:
        raise ChecklistError("That item is not in the current version of this checklist.")
    item.competency, item.title = change.competency, change.title.strip()
    item.met_looks_like, item.required = change.met_looks_like.strip(), change.required
    audit.record(by, "checklist.item_edited", template, version=version.number, position=item.position)
    db.session.flush()
    return version


def add_item(template: ChecklistTemplate, item: ItemText, by: User) -> ChecklistVersion:
    _check(item)
    version, _ = _editable_version(template, by)
    last = db.session.execute(
        db.select(func.max(ChecklistItem.position)).where(ChecklistItem.version_id == version.id)
    ).scalar_one()
    db.session.add(
        ChecklistItem(
            version_id=version.id,
            position=(last or 0) + 1,
            competency=item.competency,
            title=item.title.strip(),
            met_looks_like=item.met_looks_like.strip(),
            required=item.required,
        )
    )
    audit.record(by, "checklist.item_added", template, version=version.number)
    db.session.flush()
    return version


def new_template(name: str, by: User) -> ChecklistTemplate:
    """An admin's new, empty checklist (items are added on its page)."""
    name = (name or "").strip()
    if not name:
        raise ChecklistError("Name the checklist.")
    template = create_template(name, (), by)
    audit.record(by, "checklist.created", template, name=name)
    return template


def retire(template: ChecklistTemplate, by: User, now) -> bool:
    """Not offered for new exams any more; exams and results that used it keep it. True when
    it changed (retiring a retired checklist does nothing)."""
    db.session.execute(db.select(ChecklistTemplate.id).where(ChecklistTemplate.id == template.id).with_for_update())
    db.session.refresh(template)
    if template.retired_at is not None:
        return False
    template.retired_at = now
    audit.record(by, "checklist.retired", template)
    db.session.flush()
    return True


def move_item(template: ChecklistTemplate, item_id: int, direction: str, by: User) -> ChecklistVersion:
    """Swap an item with its neighbour above ("up") or below ("down"); a used version gets a
    new version, as for any edit."""
    if direction not in ("up", "down"):
        raise ChecklistError("Move up or down.")
    version, mapping = _editable_version(template, by)
    item = mapping.get(item_id)
    if item is None:
        raise ChecklistError("That item is not in the current version of this checklist.")
    items = sorted(mapping.values(), key=lambda i: i.position)
    index = items.index(item) + (-1 if direction == "up" else 1)
    if not 0 <= index < len(items):
        raise ChecklistError("That item is already " + ("first." if direction == "up" else "last."))
    other = items[index]
    first, second = item.position, other.position
    # (version, position) is unique: park one item outside the range while they swap.
    item.position = -1
    db.session.flush()
    other.position = first
    db.session.flush()
    item.position = second
    audit.record(by, "checklist.item_moved", template, version=version.number, position=first, to=second)
    db.session.flush()
    return version
