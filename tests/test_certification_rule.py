"""The certification rule alone (portal/certification/rule.py): every requirement missing on
its own, the make-up path, and the settings."""

from __future__ import annotations

import pytest

from portal.certification.rule import Evidence, Settings, WeekRecord, decide

EVERY_WEEK = {w: WeekRecord(True, "present", 120) for w in range(1, 7)}
ALL_CONFIRMED = {n: "confirmed" for n in range(1, 11)}


def complete(**changes) -> Evidence:
    values = dict(weeks=dict(EVERY_WEEK), total_minutes=720, oral_exam="passed", best_percent=85.0,
                  attempts_left=1, competencies=dict(ALL_CONFIRMED))
    values.update(changes)
    return Evidence(**values)


def missing(verdict) -> dict[str, tuple[str, ...]]:
    return {item.key: item.reasons for item in verdict.missing}


def test_everything_met_is_certified():
    verdict = decide(complete())
    assert verdict.certified and not verdict.missing
    assert [i.key for i in verdict.items] == ["attendance", "oral_exam", "written_test", "competencies"]


def test_a_missed_week_alone():
    weeks = dict(EVERY_WEEK)
    weeks[4] = WeekRecord(False, None, 0)
    verdict = decide(complete(weeks=weeks, total_minutes=600))
    assert not verdict.certified
    assert missing(verdict) == {"attendance": ("Week 4 not attended: ask for a make-up.",)}


def test_a_week_still_ahead_is_coming_up_not_missed():
    weeks = dict(EVERY_WEEK)
    weeks[5] = WeekRecord(False, None, 0, upcoming="Sat 5 Dec")
    weeks[6] = WeekRecord(False, None, 0, upcoming="Sat 12 Dec")
    verdict = decide(complete(weeks=weeks, total_minutes=480))
    assert not verdict.certified  # not yet: the weeks still have to be attended
    assert missing(verdict) == {"attendance": ("Week 5: coming up on Sat 5 Dec.", "Week 6: coming up on Sat 12 Dec.")}
    # Once a mark is recorded for it, the week reads as it was marked.
    weeks[5] = WeekRecord(False, "absent", 0, upcoming="Sat 5 Dec")
    assert missing(decide(complete(weeks=weeks)))["attendance"][0] == "Week 5 not attended: ask for a make-up."


def test_a_week_too_short_and_an_excused_week_say_so():
    weeks = dict(EVERY_WEEK)
    weeks[2] = WeekRecord(False, "left_early", 45)
    weeks[3] = WeekRecord(False, "excused", 0)
    reasons = missing(decide(complete(weeks=weeks)))["attendance"]
    assert reasons == (
        "Week 2: 45 minutes counted, not enough to cover the week: ask for a make-up.",
        "Week 3 excused, not attended: ask for a make-up.",
    )


def test_a_week_made_up_in_another_cohort_counts():
    weeks = dict(EVERY_WEEK)
    weeks[4] = WeekRecord(True, "present", 120, makeup=True)
    assert decide(complete(weeks=weeks)).certified


@pytest.mark.parametrize(("oral", "reason"), [
    (None, "Group oral exam not taken yet: it takes place in week 6."),
    ("not_passed", "Group oral exam not passed yet: ask your facilitator about a re-examination."),
])
def test_the_oral_exam_alone(oral, reason):
    verdict = decide(complete(oral_exam=oral))
    assert missing(verdict) == {"oral_exam": (reason,)}


@pytest.mark.parametrize(("best", "left", "reason"), [
    (75.0, 1, "Written test: best score 75 %, 1 attempt left."),
    (75.0, 0, "Written test: best score 75 %, no attempt left: ask your facilitator about another attempt."),
    (None, 2, "Written test not taken yet: 2 attempts left."),
    (None, None, "Written test not taken yet."),
])
def test_the_written_test_alone(best, left, reason):
    verdict = decide(complete(best_percent=best, attempts_left=left))
    assert missing(verdict) == {"written_test": (reason,)}


def test_exactly_the_passing_score_passes():
    assert decide(complete(best_percent=80.0)).certified
    assert not decide(complete(best_percent=79.9)).certified


def test_a_declined_and_a_pending_competency_alone():
    competencies = dict(ALL_CONFIRMED)
    competencies[7] = "declined"
    del competencies[3]
    verdict = decide(complete(competencies=competencies))
    assert missing(verdict) == {"competencies": (
        "Competency 3 waiting for your supervisor's confirmation.",
        "Competency 7 declined by your supervisor: see their reason.",
    )}


def test_emerging_competencies_are_not_required_by_default():
    competencies = {n: "confirmed" for n in range(1, 9)}
    assert decide(complete(competencies=competencies)).certified


def test_settings_change_what_is_required():
    competencies = {n: "confirmed" for n in range(1, 9)}
    weeks = dict(EVERY_WEEK)
    weeks[6] = WeekRecord(False, None, 0)
    evidence = complete(competencies=competencies, weeks=weeks, total_minutes=600, best_percent=72.0)
    assert not decide(evidence).certified
    lenient = Settings(min_weeks=5, pass_percent=70)
    assert decide(evidence, lenient).certified
    stricter = Settings(min_weeks=5, pass_percent=70, required_competencies=frozenset(range(1, 11)))
    assert missing(decide(evidence, stricter))["competencies"] == (
        "Competency 9 waiting for your supervisor's confirmation.",
        "Competency 10 waiting for your supervisor's confirmation.",
    )


def test_a_minimum_of_hours_when_set():
    evidence = complete(total_minutes=600)
    assert decide(evidence).certified  # no hour minimum by default: the weeks count
    verdict = decide(evidence, Settings(min_hours=12))
    assert missing(verdict) == {"hours": ("120 more minutes of live sessions needed: ask for a make-up.",)}
    assert decide(complete(total_minutes=720), Settings(min_hours=12)).certified
