"""Attempts: starting one (the draw), saving answers, submitting (once), closing attempts at
their deadline, and what a person may do next. Database work, but no Flask requests: routes,
the job runner and tests call these.

Concurrency:
* one open attempt per person: a partial unique index; a second start (a double click, two
  tabs) finds the first one;
* answers and submission lock the attempt's row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
  serialises writers), so an answer is either saved before the grading or refused after it;
* submitting changes the status only where it is still open (UPDATE ... WHERE status='open'):
  whoever changes it grades; a second submission finds nothing to do.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import Integer, bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError

from portal.exams import draw
from portal.extensions import db
from portal.models import (
    Attempt,
    AttemptGrant,
    AttemptItem,
    AttemptStatus,
    Enrollment,
    ExtraTime,
    Item,
    ItemStatus,
    ItemVersion,
    Offering,
    read_rows,
    utcnow,
)

GRACE = timedelta(seconds=10)  # an answer sent just before the deadline may arrive a little after


class Refused(Exception):
    """The action is not possible now; the message says why, for the person."""


def pool() -> list[draw.Candidate]:
    """The active items' current versions, as candidates for a draw (one query)."""
    rows = db.session.execute(
        db.select(ItemVersion.id, ItemVersion.week, ItemVersion.competency)
        .join(Item, Item.current_version_id == ItemVersion.id)
        .where(Item.status == ItemStatus.ACTIVE.value)
    ).all()
    return [draw.Candidate(*row) for row in rows]


def bank_shortfall(blueprint: list[int], required: list[int]) -> list[str]:
    return draw.shortfall(blueprint, required, pool())


@dataclass
class Standing:
    """Where a person stands in an offering."""

    used: int
    allowed: int
    open_attempt: Attempt | None
    last: Attempt | None
    next_start: datetime | None  # when the wait after the last attempt ends
    reason: str | None  # why they cannot start now (None: they can)


@functools.cache
def _standing_statements():
    """Built once (the test page and every trainee's dashboard ask): the person (`uid`) and
    the offering (`offering_id`) are parameters."""
    uid, offering_id = bindparam("uid", type_=Integer), bindparam("offering_id", type_=Integer)
    return (
        db.select(Attempt).where(Attempt.user_id == uid, Attempt.offering_id == offering_id).order_by(Attempt.number),
        db.select(func.count(AttemptGrant.id)).where(
            AttemptGrant.user_id == uid, AttemptGrant.offering_id == offering_id
        ),
    )


def standing(user_id: int, offering: Offering, now: datetime | None = None, zone: tzinfo = UTC) -> Standing:
    """`zone`: the person's time zone, for the time of their next attempt in `reason`."""
    now = now or utcnow()
    attempts_query, grants_query = _standing_statements()
    parameters = {"uid": user_id, "offering_id": offering.id}
    attempts = list(db.session.execute(attempts_query, parameters).scalars())
    grants = read_rows(db.session, grants_query, parameters).scalar()
    allowed = offering.attempts_allowed + (grants or 0)
    open_attempt = next((a for a in attempts if a.is_open), None)
    last = attempts[-1] if attempts else None
    next_start = None
    reason = None
    if last is not None and last.submitted_at is not None and offering.wait_hours:
        next_start = last.submitted_at + timedelta(hours=offering.wait_hours)
    if open_attempt is not None:
        reason = None
    elif not offering.is_open(now):
        reason = "The test is not open now." if now < offering.opens_at else "The test window has closed."
    elif len(attempts) >= allowed:
        reason = f"You have used your {allowed} attempt{'s' if allowed != 1 else ''}."
    elif next_start is not None and now < next_start:
        local = next_start.astimezone(zone)
        reason = f"You can start your next attempt from {local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}."
    elif any(a.passed for a in attempts):
        reason = "You have passed the test."
    return Standing(len(attempts), allowed, open_attempt, last, next_start, reason)


def attempts_left(user_id: int, cohort_id: int) -> int | None:
    """The attempts `user_id` has left in the cohort's latest offering (what `standing` counts:
    the offering's allowance and the extra attempts granted, less the attempts made), or None
    when the cohort has no offering yet. One statement (every trainee's dashboard asks)."""
    row = read_rows(db.session, _attempts_left_statement(), {"uid": user_id, "cohort_id": cohort_id}).first()
    if row is None:
        return None
    return max(row.allowed + row.granted - row.used, 0)


@functools.cache
def _attempts_left_statement():
    uid = bindparam("uid", type_=Integer)
    granted = (
        db.select(func.count(AttemptGrant.id))
        .where(AttemptGrant.user_id == uid, AttemptGrant.offering_id == Offering.id)
        .scalar_subquery()
    )
    used = (
        db.select(func.count(Attempt.id))
        .where(Attempt.user_id == uid, Attempt.offering_id == Offering.id)
        .scalar_subquery()
    )
    return (
        db.select(Offering.attempts_allowed.label("allowed"), granted.label("granted"), used.label("used"))
        .where(Offering.cohort_id == bindparam("cohort_id", type_=Integer))
        .order_by(Offering.opens_at.desc())
        .limit(1)
    )


def start(
    user_id: int,
    offering: Offering,
    now: datetime | None = None,
    rng: random.Random | None = None,
    zone: tzinfo = UTC,
) -> Attempt:
    """Start an attempt, or return the person's open one. Raises Refused with the reason
    (times in `zone`, the person's)."""
    now = now or utcnow()
    existing = open_attempt_of(user_id)
    if existing is not None:
        if close_if_due(existing, now):
            db.session.commit()
        else:
            if existing.offering_id != offering.id:
                raise Refused("You have another test open: finish it first.")
            return existing
    where = standing(user_id, offering, now, zone)
    if where.reason:
        raise Refused(where.reason)
    rng = rng or random.SystemRandom()
    chosen = draw.draw(offering.blueprint, offering.required_competencies or [], pool(), rng)
    if chosen is None:
        raise Refused("The test cannot be drawn from the item bank now: tell your facilitator.")
    option_counts = {
        vid: len(options)
        for vid, options in db.session.execute(
            db.select(ItemVersion.id, ItemVersion.options).where(ItemVersion.id.in_([c.id for c in chosen]))
        )
    }
    deadline = None
    if offering.time_limit_minutes:
        extra = db.session.scalar(
            db.select(ExtraTime.minutes).where(ExtraTime.offering_id == offering.id, ExtraTime.user_id == user_id)
        )
        deadline = now + timedelta(minutes=offering.time_limit_minutes + (extra or 0))
    attempt = Attempt(
        offering_id=offering.id,
        user_id=user_id,
        number=where.used + 1,
        status=AttemptStatus.OPEN.value,
        started_at=now,
        deadline=deadline,
        item_count=len(chosen),
    )
    db.session.add(attempt)
    try:
        db.session.flush()
        # One statement for the forty rows (executemany), not forty ORM objects.
        db.session.execute(
            insert(AttemptItem),
            [
                {
                    "attempt_id": attempt.id,
                    "position": i,
                    "item_version_id": c.id,
                    "option_order": draw.shuffle_options(option_counts[c.id], rng),
                    "flagged": False,
                }
                for i, c in enumerate(chosen, start=1)
            ],
        )
        db.session.commit()
    except IntegrityError:  # another request started one at the same moment: use that one
        db.session.rollback()
        existing = open_attempt_of(user_id)
        if existing is None:
            raise Refused("Your attempt could not be started: try again.") from None
        return existing
    return attempt


def open_attempt_of(user_id: int) -> Attempt | None:
    return db.session.execute(
        db.select(Attempt).where(Attempt.user_id == user_id, Attempt.status == AttemptStatus.OPEN.value)
    ).scalar_one_or_none()


def due(attempt: Attempt, now: datetime) -> bool:
    """Past its deadline (and the grace), or its window has closed."""
    if not attempt.is_open:
        return False
    if attempt.deadline is not None and now >= attempt.deadline + GRACE:
        return True
    offering = attempt.offering
    end = min(offering.closes_at, offering.closed_early_at) if offering.closed_early_at else offering.closes_at
    return now >= end + GRACE


def close_if_due(attempt: Attempt, now: datetime | None = None) -> bool:
    """Submit an attempt read after its deadline, with what was saved. True when it did."""
    now = now or utcnow()
    if due(attempt, now):
        return submit(attempt, by="deadline", now=now)
    return False


def _lock(attempt_id: int) -> Attempt | None:
    """The attempt's row, locked for this transaction (PostgreSQL); re-read, not cached."""
    return db.session.execute(
        db.select(Attempt).where(Attempt.id == attempt_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Saved:
    """What a save changed, and the attempt's progress after it."""

    changed: int
    answered: int
    flagged: int
    total: int


@dataclass(frozen=True)
class AnswerState:
    """An attempt's row as saving answers needs it, locked, for one person: whose it is, that
    person's place in the offering's cohort (for authz "save_answers"), and the progress."""

    id: int
    user_id: int
    enrollment: str | None
    status: str
    deadline: datetime | None
    item_count: int
    answered: int
    flagged: int


@functools.cache
def _answer_state_query():
    """Built once (an autosave runs on every click): parameters aid (attempt) and uid (person)."""
    aid, uid = bindparam("aid", type_=Integer), bindparam("uid", type_=Integer)
    answered = db.select(func.count(AttemptItem.chosen)).where(AttemptItem.attempt_id == aid).scalar_subquery()
    flagged = (
        db.select(func.count(AttemptItem.id))
        .where(AttemptItem.attempt_id == aid, AttemptItem.flagged.is_(True))
        .scalar_subquery()
    )
    enrollment = (
        db.select(Enrollment.status)
        .where(Enrollment.cohort_id == Offering.cohort_id, Enrollment.user_id == uid)
        .scalar_subquery()
    )
    return (
        db.select(
            Attempt.id,
            Attempt.user_id,
            enrollment.label("enrollment"),
            Attempt.status,
            Attempt.deadline,
            Attempt.item_count,
            answered.label("answered"),
            flagged.label("flagged"),
        )
        .join(Offering, Offering.id == Attempt.offering_id)
        .where(Attempt.id == aid)
        .with_for_update(of=Attempt)
    )


def answer_state(attempt_id: int, user_id: int) -> AnswerState | None:
    """One query: the attempt's row locked until the commit (PostgreSQL; SQLite serialises
    writers), with `user_id`'s place in its cohort and the answered and flagged counts."""
    row = db.session.execute(_answer_state_query(), {"aid": attempt_id, "uid": user_id}).first()
    return AnswerState(*row) if row is not None else None


@functools.cache
def _items_query():
    return db.select(AttemptItem.id, AttemptItem.chosen, AttemptItem.flagged, AttemptItem.option_order).where(
        AttemptItem.attempt_id == bindparam("aid", type_=Integer),
        AttemptItem.id.in_(bindparam("ids", expanding=True)),
    )


@functools.cache
def _item_update(columns: tuple[str, ...]):
    """The UPDATE of one attempt item's `columns`, built once per set of columns (an autosave
    runs on every click): parameters iid, aid and new_<column> for each column."""
    return (
        update(AttemptItem)
        .where(
            AttemptItem.id == bindparam("iid", type_=Integer),
            AttemptItem.attempt_id == bindparam("aid", type_=Integer),
        )
        .values({name: bindparam(f"new_{name}") for name in columns})
        .execution_options(synchronize_session=False)
    )


def save_answers(
    attempt: Attempt | AnswerState,
    answers: dict[int, int | None],
    flags: dict[int, bool],
    now: datetime | None = None,
) -> Saved:
    """Save answers {attempt item id: shown option position (0-based) or None} and flags.
    Raises Refused when the attempt is no longer open or past its deadline; KeyError for an
    item that is not one of this attempt's. Returns how many rows changed and the progress.

    Light (an autosave runs on every click): the locked attempt row comes with its answered
    and flagged counts in one query (or is the AnswerState the route read, checked and
    locked already), the progress after the save is counted from the rows it changed, and the
    commit is the last statement."""
    now = now or utcnow()
    locked = attempt if isinstance(attempt, AnswerState) else answer_state(attempt.id, attempt.user_id)
    if locked is None or locked.status != AttemptStatus.OPEN.value:
        raise Refused("This attempt has been submitted: answers can no longer change.")
    if locked.deadline is not None and now > locked.deadline + GRACE:
        raise Refused("Time is up: answers after the deadline are not saved.")
    answered, flagged = locked.answered, locked.flagged
    ids = set(answers) | set(flags)
    # Plain rows and one UPDATE per changed item (no ORM objects: this runs on every click).
    rows = {
        r.id: {"chosen": r.chosen, "flagged": bool(r.flagged), "order": r.option_order}
        for r in db.session.execute(_items_query(), {"aid": attempt.id, "ids": list(ids)})
    }
    if set(rows) != ids:
        raise KeyError("not an item of this attempt")
    changes: dict[int, dict] = {}
    for item_id, shown in answers.items():
        row = rows[item_id]
        order = row["order"]
        chosen = None if shown is None else order[shown] if 0 <= shown < len(order) else -1
        if chosen == -1:
            raise KeyError("no such option")
        if row["chosen"] != chosen:
            answered += (chosen is not None) - (row["chosen"] is not None)
            changes.setdefault(item_id, {}).update(chosen=chosen, answered_at=now)
    for item_id, flag in flags.items():
        if rows[item_id]["flagged"] != flag:
            flagged += 1 if flag else -1
            changes.setdefault(item_id, {})["flagged"] = flag
    for item_id, values in changes.items():
        db.session.execute(
            _item_update(tuple(sorted(values))),
            {**{f"new_{name}": value for name, value in values.items()}, "iid": item_id, "aid": attempt.id},
        )
    changed = sum(len(v) - ("answered_at" in v) for v in changes.values())
    db.session.commit()
    return Saved(changed, answered, flagged, locked.item_count)


def submit(attempt: Attempt, by: str = "trainee", now: datetime | None = None) -> bool:
    """Submit and grade, once. True when this call graded it; False when it was already
    submitted (a second click, another tab, the job runner)."""
    now = now or utcnow()
    result = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.OPEN.value)
        .values(status=AttemptStatus.SUBMITTED.value, submitted_at=now, submitted_by=by)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(attempt)
        return False
    rows = db.session.execute(
        db.select(AttemptItem, ItemVersion.options)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id)
    ).all()
    correct = 0
    for row, options in rows:
        right = row.chosen is not None and bool(options[row.chosen].get("correct"))
        row.correct = right
        correct += right
    offering = db.session.get(Offering, attempt.offering_id)
    db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id)
        .values(correct=correct, passed=100 * correct >= offering.pass_percent * attempt.item_count)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(attempt)
    return True


def close_due_attempts(now: datetime | None = None) -> int:
    """The job runner's sweep: submit every open attempt past its deadline or window."""
    now = now or utcnow()
    candidates = (
        db.session.execute(
            db.select(Attempt.id)
            .join(Offering, Offering.id == Attempt.offering_id)
            .where(Attempt.status == AttemptStatus.OPEN.value)
            .where(
                (Attempt.deadline <= now - GRACE)
                | (Offering.closes_at <= now - GRACE)
                | (Offering.closed_early_at <= now - GRACE)
            )
        )
        .scalars()
        .all()
    )
    closed = 0
    for attempt_id in candidates:
        attempt = db.session.get(Attempt, attempt_id)
        if attempt is not None and close_if_due(attempt, now):
            closed += 1
    return closed


def breakdown(attempt: Attempt) -> dict[str, dict[int, tuple[int, int]]]:
    """Right / shown per week and per competency (of the versions shown)."""
    rows = db.session.execute(
        db.select(AttemptItem.correct, ItemVersion.week, ItemVersion.competency)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id)
    ).all()
    weeks: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    competencies: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for right, week, competency in rows:
        for table, key in ((weeks, week), (competencies, competency)):
            table[key][0] += bool(right)
            table[key][1] += 1
    return {
        "weeks": {k: tuple(v) for k, v in sorted(weeks.items())},
        "competencies": {k: tuple(v) for k, v in sorted(competencies.items())},
    }


def review_open(attempt: Attempt, now: datetime | None = None) -> bool:
    """Missed items with rationales: at once when the facilitator chose so, else once the
    window has closed."""
    now = now or utcnow()
    if attempt.is_open:
        return False
    offering = attempt.offering
    return offering.review_at_once or now >= offering.closes_at
