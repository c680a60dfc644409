"""Item analysis of the written test: a plain function over a score matrix, no Flask.

`analyse(matrix)`: `matrix` is a list of attempts, each a list with one entry per item: 1
(right), 0 (wrong) or None (the attempt did not show that item: each attempt draws its own 40
from the bank). For every item: how many saw it, its difficulty (share right) and its
discrimination (the point-biserial correlation of the item with the total of the attempt's
OTHER items, over the attempts that saw it). For the test: the mean and standard deviation
of the totals and KR-20 = k/(k-1) * (1 - sum(p*q) / var), var the variance of the totals over
n (not n-1).

With every entry present this is the textbook computation. With items drawn from a bank, k is
the number of items an attempt shows and sum(p*q) is the expected sum over one attempt's
items (each item's p*q weighted by the share of attempts that saw it), which reduces to the
textbook sum when every attempt saw every item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TOO_EASY = 0.95
TOO_HARD = 0.20
POOR_DISCRIMINATION = 0.20


@dataclass
class ItemStats:
    seen: int
    correct: int
    difficulty: float | None
    discrimination: float | None

    @property
    def flags(self) -> list[str]:
        out = []
        if self.difficulty is not None and self.difficulty > TOO_EASY:
            out.append("too easy")
        if self.difficulty is not None and self.difficulty < TOO_HARD:
            out.append("too hard")
        if self.discrimination is not None and self.discrimination < POOR_DISCRIMINATION:
            out.append("poor discrimination")
        return out


@dataclass
class Analysis:
    n: int
    k: float
    mean: float | None
    sd: float | None
    kr20: float | None
    items: list[ItemStats] = field(default_factory=list)


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx = sum(xs) / n
    my = sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def analyse(matrix) -> Analysis:
    rows = [list(r) for r in matrix]
    n = len(rows)
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend([None] * (width - len(r)))
    totals = [sum(v for v in r if v is not None) for r in rows]
    counts = [sum(1 for v in r if v is not None) for r in rows]
    items: list[ItemStats] = []
    sum_pq = 0.0
    for i in range(width):
        xs: list[float] = []
        rest: list[float] = []
        for r, total in zip(rows, totals, strict=True):
            v = r[i]
            if v is None:
                continue
            xs.append(float(v))
            rest.append(float(total - v))
        seen = len(xs)
        right = int(sum(xs))
        p = right / seen if seen else None
        if p is not None:
            sum_pq += p * (1 - p) * (seen / n)
        items.append(ItemStats(seen, right, p, _pearson(xs, rest)))
    if n == 0:
        return Analysis(0, 0, None, None, None, items)
    k = sum(counts) / n
    mean = sum(totals) / n
    variance = sum((t - mean) ** 2 for t in totals) / n
    kr20 = None
    if k > 1 and variance > 0:
        kr20 = k / (k - 1) * (1 - sum_pq / variance)
    return Analysis(n, k, mean, math.sqrt(variance), kr20, items)
