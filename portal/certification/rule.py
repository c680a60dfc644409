"""The certification rule: from what the other areas recorded about one trainee, certified or
not, and for each requirement met or missing with the reason a person can act on.

Plain Python, no Flask, no database: `evidence.py` gathers an `Evidence` from the attendance,
written test, oral exam and competency areas; `decide(evidence, settings)` answers. Each
missing item names `where` it is resolved ("attendance", "oral_exam", "written_test",
"competencies"); the pages turn that into a link for whoever looks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEEKS = range(1, 7)
COMPETENCY_NUMBERS = range(1, 11)
DEFAULT_REQUIRED = frozenset(range(1, 9))
ORAL_PASSED, ORAL_NOT_PASSED = "passed", "not_passed"
CONFIRMED, DECLINED, PENDING = "confirmed", "declined", "pending"


@dataclass(frozen=True)
class Settings:
    """An admin's settings for a cohort (these are the programme's defaults)."""

    min_weeks: int = 6
    min_hours: int = 0  # 0: no minimum beyond the weeks
    required_competencies: frozenset[int] = DEFAULT_REQUIRED
    pass_percent: int = 80
    needs_approval: bool = False


@dataclass(frozen=True)
class WeekRecord:
    covered: bool
    status: str | None = None  # what was marked (None: nothing)
    minutes: int = 0
    makeup: bool = False
    upcoming: str | None = None  # the week's session is still ahead: its date, as shown


@dataclass(frozen=True)
class Evidence:
    weeks: dict[int, WeekRecord] = field(default_factory=dict)
    total_minutes: int = 0
    oral_exam: str | None = None  # the latest finalised result: passed, not_passed, None (not yet)
    best_percent: float | None = None  # best submitted written test attempt, None: none yet
    attempts_left: int | None = None  # None: unknown (no test offered to the cohort yet)
    competencies: dict[int, str] = field(default_factory=dict)  # number -> confirmed/declined (absent: pending)


@dataclass(frozen=True)
class Item:
    key: str  # attendance, hours, oral_exam, written_test, competencies
    label: str
    met: bool
    reasons: tuple[str, ...] = ()
    where: str = ""


@dataclass(frozen=True)
class Verdict:
    items: tuple[Item, ...]

    @property
    def certified(self) -> bool:
        return all(item.met for item in self.items)

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.met]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _attendance(evidence: Evidence, settings: Settings) -> Item:
    covered = [w for w in WEEKS if evidence.weeks.get(w, WeekRecord(False)).covered]
    label = f"Live sessions: {len(covered)} of {settings.min_weeks} weeks covered"
    if len(covered) >= settings.min_weeks:
        return Item("attendance", label, True, where="attendance")
    reasons = []
    for w in WEEKS:
        record = evidence.weeks.get(w, WeekRecord(False))
        if record.covered:
            continue
        if record.upcoming and record.status is None:
            reasons.append(f"Week {w}: coming up on {record.upcoming}.")
        elif record.status in (None, "absent"):
            reasons.append(f"Week {w} not attended: ask for a make-up.")
        elif record.status == "excused":
            reasons.append(f"Week {w} excused, not attended: ask for a make-up.")
        else:
            reasons.append(
                f"Week {w}: {record.minutes} minutes counted, not enough to cover the week: ask for a make-up."
            )
    return Item("attendance", label, False, tuple(reasons), "attendance")


def _hours(evidence: Evidence, settings: Settings) -> Item | None:
    if not settings.min_hours:
        return None
    hours = evidence.total_minutes / 60
    label = f"Live hours: {hours:g} of {settings.min_hours}"
    if evidence.total_minutes >= settings.min_hours * 60:
        return Item("hours", label, True, where="attendance")
    missing = settings.min_hours * 60 - evidence.total_minutes
    return Item(
        "hours", label, False, (f"{missing} more minutes of live sessions needed: ask for a make-up.",), "attendance"
    )


def _oral(evidence: Evidence) -> Item:
    if evidence.oral_exam == ORAL_PASSED:
        return Item("oral_exam", "Group oral exam: passed", True, where="oral_exam")
    if evidence.oral_exam == ORAL_NOT_PASSED:
        reason = "Group oral exam not passed yet: ask your facilitator about a re-examination."
    else:
        reason = "Group oral exam not taken yet: it takes place in week 6."
    return Item("oral_exam", "Group oral exam", False, (reason,), "oral_exam")


def _written(evidence: Evidence, settings: Settings) -> Item:
    best = evidence.best_percent
    if best is not None and best >= settings.pass_percent:
        return Item("written_test", f"Written test: passed with {best:.0f} %", True, where="written_test")
    label = f"Written test: {settings.pass_percent} % or more"
    left = evidence.attempts_left
    if best is None:
        reason = "Written test not taken yet"
        reason += f": {_plural(left, 'attempt')} left." if left else "."
    else:
        reason = f"Written test: best score {best:.0f} %"
        if left is None:
            reason += "."
        elif left > 0:
            reason += f", {_plural(left, 'attempt')} left."
        else:
            reason += ", no attempt left: ask your facilitator about another attempt."
    return Item("written_test", label, False, (reason,), "written_test")


def _competencies(evidence: Evidence, settings: Settings) -> Item:
    required = sorted(settings.required_competencies)
    confirmed = [n for n in required if evidence.competencies.get(n) == CONFIRMED]
    label = f"Competencies confirmed by your supervisor: {len(confirmed)} of {len(required)}"
    reasons = []
    for n in required:
        status = evidence.competencies.get(n, PENDING)
        if status == DECLINED:
            reasons.append(f"Competency {n} declined by your supervisor: see their reason.")
        elif status != CONFIRMED:
            reasons.append(f"Competency {n} waiting for your supervisor's confirmation.")
    return Item("competencies", label, not reasons, tuple(reasons), "competencies")


def decide(evidence: Evidence, settings: Settings = Settings()) -> Verdict:
    """Certified when every item is met. Items in the order a trainee meets them."""
    items = [
        _attendance(evidence, settings),
        _hours(evidence, settings),
        _oral(evidence),
        _written(evidence, settings),
        _competencies(evidence, settings),
    ]
    return Verdict(tuple(item for item in items if item is not None))
