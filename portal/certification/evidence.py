"""What the rule reads, gathered from the other areas' plain functions (no Flask):
attendance (`hours.summary`), the oral exam (`oral_exam.latest_outcome`), the written test
(submitted attempts, the cohort's offering for the attempts left) and the competencies
(`competencies.standings`)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam

from portal.assessment import competencies, oral_exam
from portal.attendance import hours
from portal.certification.rule import Evidence, Settings, Verdict, WeekRecord, decide
from portal.extensions import db
from portal.models import (
    Attempt,
    AttemptStatus,
    CertificationSettings,
    Cohort,
    CohortSession,
    read_rows,
    utcnow,
)


@functools.cache
def _statements() -> dict:
    """What every trainee's dashboard reads here, built once: the person (`uid`) and the
    cohort (`cohort_id`) are parameters."""
    uid, cohort_id = bindparam("uid", type_=Integer), bindparam("cohort_id", type_=Integer)
    return {
        "settings": db.select(
            CertificationSettings.min_weeks,
            CertificationSettings.min_hours,
            CertificationSettings.required_competencies,
            CertificationSettings.pass_percent,
            CertificationSettings.needs_approval,
        ).where(CertificationSettings.cohort_id == cohort_id),
        "scores": db.select(Attempt.correct, Attempt.item_count).where(
            Attempt.user_id == uid, Attempt.status == AttemptStatus.SUBMITTED.value, Attempt.correct.is_not(None)
        ),
    }


def settings_for(cohort_id: int) -> Settings:
    row = read_rows(db.session, _statements()["settings"], {"cohort_id": cohort_id}).one_or_none()
    if row is None:
        return Settings()
    return Settings(
        min_weeks=row.min_weeks,
        min_hours=row.min_hours,
        required_competencies=frozenset(int(n) for n in row.required_competencies),
        pass_percent=row.pass_percent,
        needs_approval=row.needs_approval,
    )


def _written_test(user_id: int, cohort_id: int) -> tuple[float | None, int | None]:
    """(best percent of any submitted attempt, attempts left in the cohort's latest offering)."""
    from portal.exams.attempts import attempts_left

    best = None
    for correct, count in read_rows(db.session, _statements()["scores"], {"uid": user_id}):
        percent = 100.0 * correct / count if count else 0.0
        best = percent if best is None else max(best, percent)
    return best, attempts_left(user_id, cohort_id)


def _upcoming(cohort_id: int, now: datetime, cohort: Cohort | None = None) -> dict[int, str]:
    """The cohort's weeks whose session has not ended yet, with their date (in the cohort's
    zone). From `cohort`'s sessions when the caller has the cohort loaded already."""
    if cohort is not None:
        rows = [(s.week, s.starts_at, s.duration_minutes, cohort.time_zone) for s in cohort.sessions]
    else:
        rows = db.session.execute(
            db.select(CohortSession.week, CohortSession.starts_at, CohortSession.duration_minutes, Cohort.time_zone)
            .join(Cohort, Cohort.id == CohortSession.cohort_id)
            .where(CohortSession.cohort_id == cohort_id)
        ).all()
    upcoming = {}
    for week, starts_at, minutes, zone in rows:
        if starts_at + timedelta(minutes=minutes or 0) > now:
            local = starts_at.astimezone(ZoneInfo(zone or "UTC"))
            upcoming[week] = f"{local:%a} {local.day} {local:%b}"
    return upcoming


def evidence_for(
    user_id: int,
    cohort_id: int,
    now: datetime | None = None,
    *,
    summary: hours.Summary | None = None,
    cohort: Cohort | None = None,
) -> Evidence:
    """What the rule reads for one trainee. A page that has read the trainee's hours
    (`summary`) or loaded the cohort with its sessions (`cohort`) passes them in."""
    summary = summary if summary is not None else hours.summary(db.session, user_id, cohort_id)
    ahead = _upcoming(cohort_id, now or utcnow(), cohort)
    weeks = {
        w: WeekRecord(
            covered=info.covered, status=info.status, minutes=info.minutes, makeup=info.makeup, upcoming=ahead.get(w)
        )
        for w, info in summary.weeks.items()
    }
    for w, when in ahead.items():
        weeks.setdefault(w, WeekRecord(False, upcoming=when))
    outcome = oral_exam.latest_outcome(user_id)
    best, left = _written_test(user_id, cohort_id)
    standing = competencies.standings([user_id])[user_id]
    return Evidence(
        weeks=weeks,
        total_minutes=summary.total_minutes,
        oral_exam=outcome,
        best_percent=best,
        attempts_left=left,
        competencies={s.number: s.status for s in standing if s.status != competencies.PENDING},
    )


def verdict_for(user_id: int, cohort_id: int) -> Verdict:
    return decide(evidence_for(user_id, cohort_id), settings_for(cohort_id))
