"""Item analysis (portal/exams/analysis.py) against an example computed by hand."""

from __future__ import annotations

import math
import random
import time

import pytest

from portal.exams.analysis import analyse

# Four attempts, three items:
#   A 1 1 1 (3)   B 1 1 0 (2)   C 1 0 0 (1)   D 0 0 0 (0)
# p = .75 .50 .25; sum pq = .1875 + .25 + .1875 = .625
# totals 3 2 1 0: mean 1.5, variance over n = (2.25 + .25 + .25 + 2.25) / 4 = 1.25
# KR-20 = 3/2 * (1 - .625 / 1.25) = .75
# Item 1 against the rest (2 1 0 0): sxy = .75, sxx = .75, syy = 2.75 -> .75 / sqrt(2.0625)
# Item 2 against the rest (2 1 1 0): sxy = 1, sxx = 1, syy = 2 -> 1 / sqrt(2)
# Item 3 against the rest (2 2 1 0): sxy = .75, sxx = .75, syy = 2.75 -> .75 / sqrt(2.0625)
HAND = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]


def test_small_example_by_hand():
    result = analyse(HAND)
    assert result.n == 4 and result.k == 3
    assert result.mean == pytest.approx(1.5)
    assert result.sd == pytest.approx(math.sqrt(1.25))
    assert result.kr20 == pytest.approx(0.75)
    assert [i.difficulty for i in result.items] == pytest.approx([0.75, 0.5, 0.25])
    assert [i.discrimination for i in result.items] == pytest.approx(
        [0.75 / math.sqrt(2.0625), 1 / math.sqrt(2), 0.75 / math.sqrt(2.0625)]
    )
    assert result.items[0].discrimination == pytest.approx(0.5222, abs=1e-4)
    assert [i.seen for i in result.items] == [4, 4, 4]


def test_flags():
    # item 0 everyone right (too easy, no discrimination computable), item 1 nobody right,
    # item 2 answered right by the weakest only (negative discrimination).
    matrix = [[1, 0, 0, 1, 1], [1, 0, 0, 1, 0], [1, 0, 1, 0, 0], [1, 0, 1, 0, 0]]
    result = analyse(matrix)
    assert result.items[0].flags == ["too easy"] and result.items[0].discrimination is None
    assert result.items[1].flags == ["too hard"]
    assert "poor discrimination" in result.items[2].flags and result.items[2].discrimination < 0


def test_items_not_seen_by_every_attempt():
    # None: the attempt did not draw the item. The first two columns are the hand example's
    # items 1 and 2 for attempts A-D; two more attempts saw only item 2.
    matrix = [[1, 1], [1, 1], [1, 0], [0, 0], [None, 1], [None, 0]]
    result = analyse(matrix)
    assert [i.seen for i in result.items] == [4, 6]
    assert result.items[0].difficulty == pytest.approx(0.75)
    assert result.items[1].difficulty == pytest.approx(0.5)


def test_empty_and_degenerate():
    assert analyse([]).kr20 is None and analyse([]).items == []
    one = analyse([[1, 0, 1]])
    assert one.kr20 is None and one.items[0].discrimination is None
    same = analyse([[1, 1], [1, 1]])
    assert same.kr20 is None and same.sd == 0


def test_a_thousand_attempts_in_well_under_a_second():
    rng = random.Random(4)
    ability = [rng.random() for _ in range(1000)]
    matrix = [[1 if rng.random() < 0.3 + 0.6 * a else 0 for _ in range(40)] for a in ability]
    started = time.perf_counter()
    result = analyse(matrix)
    assert time.perf_counter() - started < 1.0
    assert 0.5 < result.kr20 < 1
    assert all(i.discrimination > 0 for i in result.items)
