"""The plain rules of attendance, tested directly: code rotation and grace, self check-in
marks, roll minutes, hours toward the twelve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.attendance import codes, hours, rules

SECRET = "00" * 20
T0 = datetime(2027, 3, 1, 23, 0, 0, tzinfo=UTC)  # a whole minute


def test_the_code_has_six_digits_and_changes_every_minute():
    first = codes.current(SECRET, 1, T0)
    assert len(first) == 6 and first.isdigit()
    assert codes.current(SECRET, 1, T0 + timedelta(seconds=59)) == first
    assert codes.current(SECRET, 1, T0 + timedelta(seconds=60)) != first
    # per session and per secret
    assert codes.current(SECRET, 2, T0) != first
    assert codes.current("11" * 20, 1, T0) != first


def test_the_previous_code_works_only_for_the_grace_period():
    old = codes.current(SECRET, 1, T0)
    new = codes.current(SECRET, 1, T0 + timedelta(seconds=60))
    assert codes.accepts(SECRET, 1, old, T0 + timedelta(seconds=30))
    assert codes.accepts(SECRET, 1, old, T0 + timedelta(seconds=60 + codes.GRACE_SECONDS - 1))
    assert not codes.accepts(SECRET, 1, old, T0 + timedelta(seconds=60 + codes.GRACE_SECONDS))
    assert codes.accepts(SECRET, 1, new, T0 + timedelta(seconds=61))
    # two steps old: never
    assert not codes.accepts(SECRET, 1, old, T0 + timedelta(seconds=125))
    # the next code is not accepted early
    assert not codes.accepts(SECRET, 1, new, T0 + timedelta(seconds=30))


def test_typed_codes_are_forgiving_about_spaces_and_strict_about_the_rest():
    code = codes.current(SECRET, 1, T0)
    assert codes.accepts(SECRET, 1, f"{code[:3]} {code[3:]}", T0)
    assert codes.accepts(SECRET, 1, f"{code[:3]}-{code[3:]}", T0)
    for bad in ("", None, code[:5], code + "0", "abcdef", "١٢٣٤٥٦"):
        assert not codes.accepts(SECRET, 1, bad, T0)


def test_self_checkin_is_present_until_ten_minutes_then_late_with_the_minutes_left():
    assert rules.self_checkin(T0, 120, T0 - timedelta(minutes=14)) == rules.Mark("present", 120)
    assert rules.self_checkin(T0, 120, T0 + timedelta(minutes=10)) == rules.Mark("present", 120)
    assert rules.self_checkin(T0, 120, T0 + timedelta(minutes=10, seconds=1)) == rules.Mark("late", 109)
    assert rules.self_checkin(T0, 120, T0 + timedelta(minutes=45)) == rules.Mark("late", 75)
    assert rules.self_checkin(T0, 120, T0 + timedelta(minutes=130)) == rules.Mark("late", 0)


def test_live_window_is_the_join_window():
    end = T0 + timedelta(minutes=120)
    assert not rules.is_live(T0, end, T0 - timedelta(minutes=16))
    assert rules.is_live(T0, end, T0 - timedelta(minutes=15))
    assert rules.is_live(T0, end, end - timedelta(seconds=1))
    assert not rules.is_live(T0, end, end)


def test_roll_minutes():
    assert rules.roll_minutes("present", None, 120) == (120, None)
    assert rules.roll_minutes("present", 100, 120) == (100, None)
    assert rules.roll_minutes("late", None, 120)[1] == "Enter the minutes attended."
    assert rules.roll_minutes("left_early", 95, 120) == (95, None)
    assert rules.roll_minutes("late", 121, 120)[1] is not None
    assert rules.roll_minutes("late", -1, 120)[1] is not None
    assert rules.roll_minutes("absent", 50, 120) == (0, None)
    assert rules.roll_minutes("excused", None, 120) == (0, None)


def R(week, status, minutes, makeup=False):
    return hours.Record(week, status, minutes, makeup)


def test_hours_weeks_covered_and_total():
    s = hours.summarise(
        [
            R(1, "present", 120),
            R(2, "late", 95),
            R(3, "left_early", 89),  # below 90: attended, not covered
            R(4, "excused", 0),
            R(5, "absent", 0),
        ]
    )
    assert s.covered_weeks == [1, 2]
    assert s.weeks[3].minutes == 89 and not s.weeks[3].covered
    assert s.weeks[4].status == "excused" and not s.weeks[4].covered and s.weeks[4].minutes == 0
    assert s.weeks[6].status is None
    assert s.total_minutes == 120 + 95 + 89
    assert s.total_hours == round(304 / 60, 2)
    assert not s.all_covered


def test_a_makeup_covers_the_missed_week_and_the_better_record_counts():
    s = hours.summarise([R(2, "absent", 0), R(2, "present", 120, makeup=True)])
    assert s.weeks[2].covered and s.weeks[2].makeup and s.weeks[2].minutes == 120
    s = hours.summarise([R(2, "present", 120), R(2, "late", 90, makeup=True)])
    assert not s.weeks[2].makeup and s.weeks[2].minutes == 120


def test_the_rule_is_a_setting():
    records = [R(1, "late", 80), R(2, "left_early", 100)]
    assert hours.summarise(records).covered_weeks == [2]
    assert hours.summarise(records, hours.Rule(min_minutes=60)).covered_weeks == [1, 2]
    assert hours.summarise(records, hours.Rule(counted=frozenset({"present", "late"}), min_minutes=60)).covered_weeks == [1]
    full = hours.summarise([R(w, "present", 120) for w in range(1, 7)])
    assert full.all_covered and full.total_hours == 12
