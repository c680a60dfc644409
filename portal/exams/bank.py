"""The item bank: writing items (a new version when an active or used item changes),
importing GIFT and CSV through a preview, exporting to GIFT and CSV. No Flask requests here.

CSV columns (a header row, any order; the export writes them in this order):
    id_number, title, week, competency, status, stem, option_1 ... option_6, correct,
    feedback_1 ... feedback_6, rationale, tags, format
`correct` is the number (1-6) of the right option; `tags` are separated by `;`; empty
options at the end are left out. `status` is draft, active or retired (empty: the import's).
`format` is markdown (the default) or html. Only title, stem, option_1, option_2 and correct
are required; week and competency may come from the import's choices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import or_

from portal import spreadsheets
from portal.exams import gift
from portal.extensions import db
from portal.models import AttemptItem, Item, ItemStatus, ItemVersion, utcnow

CSV_COLUMNS = (
    ["id_number", "title", "week", "competency", "status", "stem"]
    + [f"option_{i}" for i in range(1, 7)]
    + ["correct"]
    + [f"feedback_{i}" for i in range(1, 7)]
    + ["rationale", "tags", "format"]
)
MAX_TITLE = 200


@dataclass
class Draft:
    """An item as it will be saved (from a form, a GIFT question or a CSV row)."""

    title: str
    stem: str
    options: list[dict]  # {"text", "correct", "feedback"}
    rationale: str = ""
    week: int | None = None
    competency: int | None = None
    status: str | None = None
    id_number: str | None = None
    tags: list[str] = field(default_factory=list)
    format: str = "markdown"
    line: int = 0
    # Set by match(): the item it updates, and whether anything would change.
    item_id: int | None = None
    action: str = "new"  # new, update, unchanged
    # Set by place(): the week and competency from the file or the import's choices, before
    # the admin's choice for this item in the preview.
    default_week: int | None = None
    default_competency: int | None = None

    def problems(self) -> list[str]:
        out = []
        if not self.title.strip():
            out.append("a title is needed")
        if len(self.title) > MAX_TITLE:
            out.append(f"the title is longer than {MAX_TITLE} characters")
        if not self.stem.strip():
            out.append("the question is empty")
        if not 2 <= len(self.options) <= 6:
            out.append("an item has 2 to 6 options")
        if any(not (o.get("text") or "").strip() for o in self.options):
            out.append("an option is empty")
        correct = sum(1 for o in self.options if o.get("correct"))
        if correct != 1:
            out.append("no correct answer" if correct == 0 else "two correct answers")
        if self.week not in range(1, 7):
            out.append("choose the week (1-6)")
        if self.competency not in range(1, 11):
            out.append("choose the competency (1-10)")
        if self.status is not None and self.status not in {s.value for s in ItemStatus}:
            out.append("status is draft, active or retired")
        return out


def _format(fmt: str) -> str:
    return "html" if fmt == "html" else "markdown"


def drafts_from_gift(result: gift.Result, week: int | None, competency: int | None) -> list[Draft]:
    drafts = []
    for q in result.items:
        w, c = gift.week_and_competency(q.category)
        drafts.append(
            Draft(
                title=q.title[:MAX_TITLE],
                stem=q.stem,
                options=[{"text": o.text, "correct": o.correct, "feedback": o.feedback} for o in q.options],
                rationale=q.feedback,
                week=w or week,
                competency=c or competency,
                id_number=q.id_number,
                tags=q.tags,
                format=_format(q.format),
                line=q.line,
            )
        )
    return drafts


# The problems the admin can mend in the preview by choosing this item's week or competency.
PLACE_PROBLEMS = frozenset({"choose the week (1-6)", "choose the competency (1-10)"})


def place(drafts: list[Draft], chosen: dict[int, dict[str, int]]) -> None:
    """The admin's week and competency for single items in the preview, {line: {"week": n,
    "competency": n}}, over what the file or the import's choices say (kept as the defaults)."""
    for d in drafts:
        d.default_week, d.default_competency = d.week, d.competency
        mine = chosen.get(d.line, {})
        if "week" in mine:
            d.week = mine["week"]
        if "competency" in mine:
            d.competency = mine["competency"]


def sort_out(drafts: list[Draft], problems: list[tuple[int, str]]) -> tuple[list[Draft], list[Draft]]:
    """(valid drafts, drafts that only lack a week or competency); every draft's problems
    are added to `problems` with its line."""
    valid, unplaced = [], []
    for d in drafts:
        reasons = d.problems()
        if not reasons:
            valid.append(d)
            continue
        problems.append((d.line, "; ".join(reasons)))
        if set(reasons) <= PLACE_PROBLEMS:
            unplaced.append(d)
    return valid, unplaced


def parse_csv(text: str, week: int | None, competency: int | None) -> tuple[list[Draft], list[tuple[int, str]]]:
    """CSV rows as drafts, and (line, reason) for each row that cannot be one."""
    drafts, problems = csv_drafts(text, week, competency)
    valid, _ = sort_out(drafts, problems)
    return valid, sorted(problems)


def csv_drafts(text: str, week: int | None, competency: int | None) -> tuple[list[Draft], list[tuple[int, str]]]:
    """CSV rows as drafts (valid or not: see Draft.problems), and (line, reason) for each row
    that cannot even be a draft."""
    drafts: list[Draft] = []
    problems: list[tuple[int, str]] = []
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        fields = set(reader.fieldnames or [])
    except csv.Error as exc:
        return [], [(1, f"not a CSV file ({exc})")]
    missing = {"title", "stem", "option_1", "option_2", "correct"} - fields
    if missing:
        return [], [(1, "missing columns: " + ", ".join(sorted(missing)))]
    try:
        for raw in reader:
            line = reader.line_num
            row = {key: spreadsheets.read_cell(value) for key, value in raw.items()}
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            try:
                correct = int((row.get("correct") or "").strip())
            except ValueError:
                problems.append((line, "correct must be the number of the right option (1-6)"))
                continue
            options = []
            for i in range(1, 7):
                text_i = (row.get(f"option_{i}") or "").strip()
                if text_i:
                    options.append(
                        {"text": text_i, "correct": i == correct, "feedback": (row.get(f"feedback_{i}") or "").strip()}
                    )
            if not 1 <= correct <= len(options):
                problems.append((line, "correct names an option that is not there"))
                continue

            def number(name, default, row=row):
                value = (row.get(name) or "").strip()
                try:
                    return int(value) if value else default
                except ValueError:
                    return -1

            draft = Draft(
                title=(row.get("title") or "").strip(),
                stem=(row.get("stem") or "").strip(),
                options=options,
                rationale=(row.get("rationale") or "").strip(),
                week=number("week", week),
                competency=number("competency", competency),
                status=(row.get("status") or "").strip() or None,
                id_number=(row.get("id_number") or "").strip() or None,
                tags=[t.strip() for t in (row.get("tags") or "").split(";") if t.strip()],
                format=_format((row.get("format") or "").strip().lower()),
                line=line,
            )
            drafts.append(draft)
    except csv.Error as exc:
        problems.append((reader.line_num, f"not valid CSV ({exc})"))
    return drafts, problems


def _content(version: ItemVersion | None):
    if version is None:
        return None
    return (
        version.stem,
        version.format,
        version.options,
        version.rationale or "",
        version.week,
        version.competency,
        list(version.tags or []),
    )


def _draft_content(d: Draft):
    return (
        d.stem,
        d.format,
        [dict(text=o["text"], correct=bool(o["correct"]), feedback=o.get("feedback") or "") for o in d.options],
        d.rationale or "",
        d.week,
        d.competency,
        list(d.tags),
    )


def match(drafts: list[Draft]) -> None:
    """Find the items these drafts update: by id number, else by title (one query)."""
    ids = [d.id_number for d in drafts if d.id_number]
    titles = [d.title for d in drafts]
    rows = db.session.execute(
        db.select(Item, ItemVersion)
        .outerjoin(ItemVersion, ItemVersion.id == Item.current_version_id)
        .where(or_(Item.id_number.in_(ids), Item.title.in_(titles)))
    ).all()
    by_id = {item.id_number: (item, v) for item, v in rows if item.id_number}
    by_title: dict[str, tuple] = {}
    for item, v in sorted(rows, key=lambda r: r[0].id):
        by_title.setdefault(item.title, (item, v))
    for d in drafts:
        found = by_id.get(d.id_number) if d.id_number else None
        found = found or by_title.get(d.title)
        if found is None:
            d.item_id, d.action = None, "new"
            continue
        item, version = found
        d.item_id = item.id
        same = _content(version) == _draft_content(d) and item.title == d.title
        same = same and (d.status is None or d.status == item.status)
        d.action = "unchanged" if same else "update"


def _used(version_id: int | None) -> bool:
    if version_id is None:
        return False
    return (
        db.session.execute(db.select(AttemptItem.id).where(AttemptItem.item_version_id == version_id).limit(1)).first()
        is not None
    )


def save(draft: Draft, actor_id: int | None, default_status: str = ItemStatus.DRAFT.value) -> Item:
    """Create the item, or write the draft onto it: a new version when the item is active or
    its current version was shown in an attempt; else its current version changes in place."""
    now = utcnow()
    item = db.session.get(Item, draft.item_id) if draft.item_id else None
    content = _draft_content(draft)
    if item is None:
        item = Item(
            title=draft.title,
            id_number=draft.id_number,
            status=draft.status or default_status,
            week=draft.week,
            competency=draft.competency,
            created_at=now,
            updated_at=now,
        )
        db.session.add(item)
        db.session.flush()
        version = None
    else:
        version = db.session.get(ItemVersion, item.current_version_id) if item.current_version_id else None
        item.title = draft.title
        if draft.id_number:
            item.id_number = draft.id_number
        if draft.status:
            item.status = draft.status
        item.week, item.competency = draft.week, draft.competency
        item.updated_at = now
    if version is not None and _content(version) == content:
        return item
    stem, fmt, options, rationale, week, competency, tags = content
    if version is None or item.status == ItemStatus.ACTIVE.value or _used(version.id):
        number = (version.number + 1) if version is not None else 1
        if version is not None:
            number = 1 + (
                db.session.scalar(db.select(db.func.max(ItemVersion.number)).where(ItemVersion.item_id == item.id)) or 0
            )
        version = ItemVersion(
            item_id=item.id,
            number=number,
            created_by_id=actor_id,
            created_at=now,
            stem=stem,
            format=fmt,
            options=options,
            rationale=rationale or None,
            week=week,
            competency=competency,
            tags=tags,
        )
        db.session.add(version)
        db.session.flush()
        item.current_version_id = version.id
    else:
        version.stem, version.format, version.options = stem, fmt, options
        version.rationale, version.week, version.competency, version.tags = rationale or None, week, competency, tags
    return item


def bank_rows(query):
    """(item, current version) for items of a query, one statement."""
    return db.session.execute(
        query.add_columns(ItemVersion).join(ItemVersion, ItemVersion.id == Item.current_version_id)
    ).all()


class _Exported:
    def __init__(self, item: Item, version: ItemVersion):
        self.title = item.title
        self.stem = version.stem
        self.options = [gift.Option(o["text"], bool(o["correct"]), o.get("feedback") or "") for o in version.options]
        self.feedback = version.rationale or ""
        self.category = f"$course$/Week {version.week}/Competency {version.competency}"
        self.id_number = item.id_number or f"item-{item.id}"
        self.tags = list(version.tags or [])
        self.format = version.format


def to_gift(rows) -> str:
    return gift.dump(_Exported(item, version) for item, version in rows)


def to_csv(rows) -> str:
    """The items as CSV (the columns parse_csv reads), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item, version in rows:
        options = version.options
        correct = next(i for i, o in enumerate(options, start=1) if o.get("correct"))
        texts = [o["text"] for o in options] + [""] * (6 - len(options))
        feedback = [o.get("feedback") or "" for o in options] + [""] * (6 - len(options))
        first = [item.id_number or f"item-{item.id}", item.title, version.week, version.competency, item.status]
        last = [version.rationale or "", ";".join(version.tags or []), version.format]
        writer.writerow(spreadsheets.row([*first, version.stem, *texts, correct, *feedback, *last]))
    return out.getvalue()
