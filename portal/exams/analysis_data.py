"""The matrices item analysis reads, in a fixed number of queries whatever the number of
attempts and items: one for the answers, one for the items' titles and options."""

from __future__ import annotations

from collections import defaultdict

from portal.exams.analysis import analyse
from portal.extensions import db
from portal.models import Attempt, AttemptItem, AttemptStatus, Item, ItemVersion


def report(offering_ids: list[int] | None = None):
    """Item analysis of submitted attempts (of some offerings, or all): per bank item (all its
    versions together) seen, difficulty, discrimination, option counts; per test mean, SD,
    KR-20. Returns (analysis, rows) with rows in the order of analysis.items."""
    query = (
        db.select(AttemptItem.attempt_id, AttemptItem.correct, AttemptItem.chosen, ItemVersion.item_id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(Attempt.status == AttemptStatus.SUBMITTED.value)
    )
    if offering_ids is not None:
        query = query.where(Attempt.offering_id.in_(offering_ids))
    answers = db.session.execute(query).all()
    item_ids = sorted({a.item_id for a in answers})
    column = {item_id: i for i, item_id in enumerate(item_ids)}
    rows_by_attempt: dict[int, list] = defaultdict(lambda: [None] * len(item_ids))
    chosen_counts: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
    for attempt_id, correct, chosen, item_id in answers:
        rows_by_attempt[attempt_id][column[item_id]] = 1 if correct else 0
        chosen_counts[item_id][chosen] += 1
    result = analyse(list(rows_by_attempt.values()))
    items = {
        item.id: (item, version)
        for item, version in db.session.execute(
            db.select(Item, ItemVersion)
            .join(ItemVersion, ItemVersion.id == Item.current_version_id)
            .where(Item.id.in_(item_ids))
        ).all()
    }
    rows = []
    for item_id, stats in zip(item_ids, result.items, strict=True):
        item, version = items[item_id]
        options = [
            {"text": o["text"], "correct": bool(o.get("correct")), "count": chosen_counts[item_id].get(i, 0)}
            for i, o in enumerate(version.options)
        ]
        rows.append(
            {
                "item": item,
                "version": version,
                "stats": stats,
                "options": options,
                "blank": chosen_counts[item_id].get(None, 0),
            }
        )
    return result, rows
