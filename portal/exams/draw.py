"""Drawing an attempt's items from the bank by a blueprint: plain rules, no Flask, no database.

A blueprint is the number of items per week (weeks 1..6; default 7, 7, 7, 7, 6, 6 = 40) and,
optionally, competencies each attempt must cover at least once. `shortfall` says exactly what
the bank lacks; `draw` picks one attempt's items (in a shuffled order) and `shuffle_options`
the order its options are shown in.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from portal.cohorts import curriculum

DEFAULT_BLUEPRINT = [7, 7, 7, 7, 6, 6]
COMPETENCIES = {number: curriculum.competency_title(number) for number in curriculum.COMPETENCY_NAMES}
WEEKS = curriculum.WEEK_TITLES


@dataclass(frozen=True)
class Candidate:
    id: int  # an item version id
    week: int
    competency: int


def shortfall(blueprint: list[int], required: list[int], pool: list[Candidate]) -> list[str]:
    """What the bank lacks for this blueprint, one sentence each (empty: it can be drawn)."""
    problems = []
    by_week = Counter(c.week for c in pool)
    for week, wanted in enumerate(blueprint, start=1):
        have = by_week.get(week, 0)
        if have < wanted:
            problems.append(
                f"Week {week} needs {wanted} active items and the bank has {have}: add {wanted - have} more."
            )
    weeks_drawn = {w for w, n in enumerate(blueprint, start=1) if n > 0}
    for competency in required:
        if not any(c.competency == competency and c.week in weeks_drawn for c in pool):
            problems.append(
                f"Competency {competency} ({COMPETENCIES.get(competency, '?')}) has no active item in the weeks drawn."
            )
    if not problems and required and draw(blueprint, required, pool, random.Random(0)) is None:
        problems.append(
            "The weeks' counts leave no room to cover every required competency: add items for the "
            "missing competencies in weeks with spare items, or require fewer competencies."
        )
    return problems


def _covers(chosen: list[Candidate], required: list[int]) -> bool:
    have = {c.competency for c in chosen}
    return all(r in have for r in required)


def draw(
    blueprint: list[int], required: list[int], pool: list[Candidate], rng: random.Random
) -> list[Candidate] | None:
    """One attempt's items, in the order shown; None when the blueprint cannot be met."""
    by_week: dict[int, list[Candidate]] = {}
    for c in pool:
        by_week.setdefault(c.week, []).append(c)
    for week, wanted in enumerate(blueprint, start=1):
        if len(by_week.get(week, [])) < wanted:
            return None
    for _ in range(50):
        chosen: list[Candidate] = []
        for week, wanted in enumerate(blueprint, start=1):
            chosen.extend(rng.sample(by_week.get(week, []), wanted))
        chosen = _repair(chosen, required, by_week, rng)
        if chosen is not None:
            rng.shuffle(chosen)
            return chosen
    return None


def _repair(chosen, required, by_week, rng):
    """Swap items within their week until every required competency is covered."""
    chosen = list(chosen)
    for competency in required:
        counts = Counter(c.competency for c in chosen)
        if counts[competency]:
            continue
        in_use = {c.id for c in chosen}
        options = [c for w in by_week for c in by_week[w] if c.competency == competency and c.id not in in_use]
        rng.shuffle(options)
        done = False
        for new in options:
            for i, old in enumerate(chosen):
                if old.week != new.week:
                    continue
                if old.competency in required and counts[old.competency] <= 1:
                    continue
                chosen[i] = new
                done = True
                break
            if done:
                break
        if not done:
            return None
    return chosen if _covers(chosen, required) else None


def shuffle_options(count: int, rng: random.Random) -> list[int]:
    order = list(range(count))
    rng.shuffle(order)
    return order
