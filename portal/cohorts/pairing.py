"""Pairing a roster into dyads: pure functions, no database.

A person is (id, workplace or None). Groups are lists of ids: pairs, plus one triad when the
roster is odd.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

Person = tuple[int, str | None]


def _workplace_key(workplace: str | None, person_id: int) -> str:
    # People with no workplace recorded are each their own "workplace".
    return (workplace or "").strip().lower() or f"__none__{person_id}"


def _interleave_by_workplace(people: Sequence[Person], rng: random.Random) -> list[Person]:
    """An order in which neighbours come from different workplaces wherever possible:
    deal people out from the largest workplace first, alternating between groups."""
    groups: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        groups[_workplace_key(person[1], person[0])].append(person)
    buckets = list(groups.values())
    for bucket in buckets:
        rng.shuffle(bucket)
    rng.shuffle(buckets)
    buckets.sort(key=len, reverse=True)
    flat = [p for bucket in buckets for p in bucket]
    # Fill even slots first, then odd: members of the largest group land apart.
    order: list[Person | None] = [None] * len(flat)
    positions = list(range(0, len(flat), 2)) + list(range(1, len(flat), 2))
    for person, position in zip(flat, positions, strict=True):
        order[position] = person
    return [p for p in order if p is not None]


def pair(people: Sequence[Person], *, keep_workplaces_apart: bool, rng: random.Random | None = None) -> list[list[int]]:
    rng = rng or random.Random()  # noqa: S311 - not security
    people = list(people)
    if len(people) < 2:
        return [[p[0] for p in people]] if people else []
    if keep_workplaces_apart:
        ordered = _interleave_by_workplace(people, rng)
    else:
        ordered = people[:]
        rng.shuffle(ordered)
    groups = [[ordered[i][0], ordered[i + 1][0]] for i in range(0, len(ordered) - 1, 2)]
    if len(ordered) % 2:
        last = ordered[-1]
        workplace = {p[0]: _workplace_key(p[1], p[0]) for p in people}
        # The odd one out joins a pair with nobody from their workplace, if there is one.
        best = next(
            (g for g in groups if all(workplace[m] != workplace[last[0]] for m in g)),
            groups[-1],
        )
        best.append(last[0])
    return groups


def repair(
    groups: Sequence[Sequence[int]],
    people: Sequence[Person],
    *,
    rng: random.Random | None = None,
) -> tuple[list[list[int]], list[list[int]]]:
    """After withdrawals (or late arrivals): keep every group that still has two or more
    active members as it is; pair the people left alone. Returns (kept, new) groups."""
    rng = rng or random.Random()  # noqa: S311
    active = {p[0] for p in people}
    kept: list[list[int]] = []
    alone: list[int] = []
    placed: set[int] = set()
    for group in groups:
        members = [m for m in group if m in active]
        placed.update(members)
        if len(members) >= 2:
            kept.append(list(members))
        else:
            alone.extend(members)
    alone.extend(p[0] for p in people if p[0] not in placed)
    by_id = dict(people)
    new = pair([(i, by_id[i]) for i in alone], keep_workplaces_apart=True, rng=rng) if len(alone) >= 2 else []
    if len(alone) == 1:
        if kept:
            # One person on their own joins the smallest kept pair (a triad), so nobody works alone.
            target = min(kept, key=len)
            kept.remove(target)
            new.append([*target, alone[0]])
        else:
            new.append([alone[0]])
    return kept, new
