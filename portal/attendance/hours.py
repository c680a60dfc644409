"""Hours toward the twelve: per trainee, minutes per week, weeks covered, total hours.

No Flask: `summary(db_session, user_id, cohort_id)` reads what it needs through the SQLAlchemy
session it is given, and `summarise(rows, rule)` is the pure rule under it. The certification
issue reads `summary` (one trainee) or `summaries` (a whole cohort, a constant number of
queries). A week is covered by the trainee's own cohort's session of that week, or by an
accepted make-up in the same week of another cohort; the better of the two counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

WEEKS = range(1, 7)
PROGRAMME_MINUTES = 12 * 60


@dataclass(frozen=True)
class Rule:
    """What counts as a covered week (the admin setting; these are the defaults)."""

    min_minutes: int = 90
    counted: frozenset[str] = frozenset({"present", "late", "left_early"})


@dataclass(frozen=True)
class Record:
    """One attendance row as the rule sees it."""

    week: int
    status: str
    minutes: int
    makeup: bool = False  # attended in another cohort


@dataclass(frozen=True)
class Week:
    week: int
    minutes: int  # attended (0 when not attended or not counted)
    status: str | None  # the status of the record that counts, None when nothing is marked
    covered: bool
    makeup: bool


@dataclass(frozen=True)
class Summary:
    weeks: dict[int, Week] = field(default_factory=dict)

    @property
    def covered_weeks(self) -> list[int]:
        return [w for w, info in self.weeks.items() if info.covered]

    @property
    def total_minutes(self) -> int:
        return sum(info.minutes for info in self.weeks.values())

    @property
    def total_hours(self) -> float:
        return round(self.total_minutes / 60, 2)

    @property
    def all_covered(self) -> bool:
        return len(self.covered_weeks) == len(WEEKS)


_NOT_MARKED = {w: Week(w, 0, None, False, False) for w in WEEKS}  # immutable, shared


def summarise(records: list[Record], rule: Rule = Rule()) -> Summary:
    """The best record of each week counts: covered first, then more minutes. Minutes count
    only for statuses the rule counts (excused and absent add nothing)."""
    by_week: dict[int, list[Record]] = {}
    for r in records:
        by_week.setdefault(r.week, []).append(r)
    weeks = {}
    for w in WEEKS:
        best = None
        for r in by_week.get(w, ()):
            counted = r.status in rule.counted
            key = (counted and r.minutes >= rule.min_minutes, r.minutes if counted else -1)
            if best is None or key > best[0]:
                best = (key, r)
        if best is None:
            weeks[w] = _NOT_MARKED[w]
        else:
            (covered, _), r = best
            minutes = r.minutes if r.status in rule.counted else 0
            weeks[w] = Week(w, minutes, r.status, covered, r.makeup)
    return Summary(weeks)


def rule_from_settings(db_session: Session) -> Rule:
    from portal.models.base import read_rows

    row = read_rows(db_session, _settings_statement()).first()
    if row is None:
        return Rule()
    counted = frozenset(s for s in row.counted_statuses.split(",") if s and s not in ("absent", "excused"))
    return Rule(min_minutes=row.min_minutes, counted=counted)


@cache
def _settings_statement():
    """The two columns the rule reads of the programme's one settings row, built once."""
    from portal.models import AttendanceSettings

    return select(AttendanceSettings.min_minutes, AttendanceSettings.counted_statuses).where(
        AttendanceSettings.id == 1
    )


@cache
def _session_aliases():
    """The two aliases of a cohort session the make-up query joins, made once: SQLAlchemy
    memoises the columns of an alias, and a new alias per call costs most of the query."""
    from portal.models import CohortSession

    return aliased(CohortSession, name="own_session"), aliased(CohortSession, name="host_session")


def records_for(db_session: Session, cohort_id: int, user_ids: list[int] | None = None) -> dict[int, list[Record]]:
    """Attendance of the cohort's sessions and accepted make-ups standing in for them, by
    person (own records first): one query whatever the number of people."""
    parameters = {"cohort_id": cohort_id} if user_ids is None else {"cohort_id": cohort_id, "ids": list(user_ids)}
    from portal.models.base import read_rows

    out: dict[int, list[Record]] = {}
    statement = _records_statement(user_ids is not None)
    for user_id, week, status, minutes, makeup in read_rows(db_session, statement, parameters):
        out.setdefault(user_id, []).append(Record(week, status, minutes, makeup=bool(makeup)))
    return out


@cache
def _records_statement(for_some: bool):
    """Built once (every trainee dashboard and cohort page reads hours): the cohort
    (`cohort_id`) and, `for_some`, the people (`ids`) are parameters."""
    from sqlalchemy import Integer, bindparam, literal_column, union_all

    from portal.models import Attendance, CohortSession, MakeupRequest

    cohort_id = bindparam("cohort_id", type_=Integer)
    own_record, makeup_record = literal_column("0").label("makeup"), literal_column("1").label("makeup")
    own = (
        select(Attendance.user_id, CohortSession.week, Attendance.status, Attendance.minutes, own_record)
        .join(CohortSession, CohortSession.id == Attendance.session_id)
        .where(CohortSession.cohort_id == cohort_id)
    )
    own_session, host = _session_aliases()
    made_up = (
        select(Attendance.user_id, own_session.week, Attendance.status, Attendance.minutes, makeup_record)
        .join(
            MakeupRequest,
            (MakeupRequest.host_session_id == Attendance.session_id) & (MakeupRequest.user_id == Attendance.user_id),
        )
        .join(own_session, own_session.id == MakeupRequest.own_session_id)
        .join(host, host.id == MakeupRequest.host_session_id)
        .where(own_session.cohort_id == cohort_id, MakeupRequest.status == "accepted", host.week == own_session.week)
    )
    if for_some:
        ids = bindparam("ids", expanding=True)
        own = own.where(Attendance.user_id.in_(ids))
        made_up = made_up.where(Attendance.user_id.in_(ids))
    return union_all(own, made_up).order_by("makeup")


def summary(db_session: Session, user_id: int, cohort_id: int, rule: Rule | None = None) -> Summary:
    """One trainee's hours in their cohort: minutes per week, weeks covered (own or make-up),
    total hours. `rule` defaults to the admin setting."""
    rule = rule or rule_from_settings(db_session)
    return summarise(records_for(db_session, cohort_id, [user_id]).get(user_id, []), rule)


def summaries(db_session: Session, cohort_id: int, user_ids: list[int], rule: Rule | None = None) -> dict[int, Summary]:
    """Every listed trainee of a cohort at once (the roster): three queries in all."""
    rule = rule or rule_from_settings(db_session)
    # The whole cohort's records (a roster is most of them): no list of hundreds of ids to send.
    records = records_for(db_session, cohort_id)
    return {uid: summarise(records.get(uid, []), rule) for uid in user_ids}
