"""Creating cohorts and moving sessions. Callers commit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from portal import audit
from portal.cohorts.schedule import Slot, out_of_order, overlapping, weekly_sessions
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    CohortStatus,
    User,
    utcnow,
)


def create_cohort(
    *,
    name: str,
    facilitators: list[User],
    first_day: date,
    start: time,
    time_zone: str,
    meeting_url: str | None,
    capacity: int,
    notes: str | None,
    status: CohortStatus,
    by: User,
) -> Cohort:
    planned = weekly_sessions(first_day, start, time_zone)
    cohort = Cohort(
        name=name,
        time_zone=time_zone,
        meeting_url=meeting_url,
        capacity=capacity,
        notes=notes,
        status=status.value,
        starts_at=planned[0].starts_at,
        ends_at=planned[-1].starts_at + timedelta(minutes=planned[-1].duration_minutes),
        created_by_id=by.id,
    )
    cohort.facilitator_links = [CohortFacilitator(user_id=f.id) for f in facilitators]
    cohort.sessions = [
        CohortSession(
            week=p.week,
            title=p.title,
            description=p.description,
            starts_at=p.starts_at,
            duration_minutes=p.duration_minutes,
        )
        for p in planned
    ]
    db.session.add(cohort)
    db.session.flush()
    audit.record(by, "cohort.created", cohort, name=name, facilitators=[f.id for f in facilitators])
    from portal.boards.posting import cohort_board  # boards: each cohort has its private board

    cohort_board(cohort)
    return cohort


def set_facilitators(cohort: Cohort, facilitators: list[User], by: User) -> None:
    wanted = {f.id for f in facilitators}
    before = {link.user_id for link in cohort.facilitator_links}
    if wanted == before:
        return
    cohort.facilitator_links = [link for link in cohort.facilitator_links if link.user_id in wanted] + [
        CohortFacilitator(user_id=i) for i in wanted - before
    ]
    audit.record(by, "cohort.facilitators_changed", cohort, before=sorted(before), after=sorted(wanted))


def _slot(s: CohortSession, starts_at: datetime | None = None, label: str = "") -> Slot:
    start = starts_at or s.starts_at
    return Slot(s.id, s.week, start, start + timedelta(minutes=s.duration_minutes), label)


def reschedule_warnings(session: CohortSession, new_start: datetime) -> list[str]:
    """What a facilitator should know before moving `session` to `new_start`."""
    moving = _slot(session, new_start)
    warnings = out_of_order(moving, [_slot(s) for s in session.cohort.sessions])
    if new_start < utcnow() and new_start != session.starts_at:
        warnings.insert(0, "That time is in the past: nobody can attend it any more.")
    facilitator_ids = [link.user_id for link in session.cohort.facilitator_links]
    if facilitator_ids:
        rows = db.session.execute(
            db.select(CohortSession, CohortFacilitator.user_id)
            .join(CohortFacilitator, CohortFacilitator.cohort_id == CohortSession.cohort_id)
            .join(Cohort, Cohort.id == CohortSession.cohort_id)
            .where(
                CohortFacilitator.user_id.in_(facilitator_ids),
                CohortSession.id != session.id,
                CohortSession.starts_at < moving.ends_at,
                CohortSession.starts_at > new_start - timedelta(hours=24),
                Cohort.status != CohortStatus.ARCHIVED.value,
            )
        ).all()
        names = {link.user_id: link.user.display_name for link in session.cohort.facilitator_links}
        for other, facilitator_id in rows:
            if overlapping(moving, [_slot(other)]):
                warnings.append(
                    f"{names[facilitator_id]} is already facilitating {other.cohort.name}, "
                    f"week {other.week}, at that time."
                )
    return warnings


def reschedule(session: CohortSession, new_start: datetime, meeting_url: str | None, by: User) -> bool:
    """Move a session; returns False when nothing changed."""
    before = {"starts_at": session.starts_at.isoformat(), "meeting_url": session.meeting_url}
    if session.starts_at == new_start and session.meeting_url == meeting_url:
        return False
    session.starts_at = new_start
    session.meeting_url = meeting_url
    session.sequence += 1
    session.updated_at = utcnow()
    session.cohort.sync_span()
    audit.record(
        by,
        "session.rescheduled",
        session,
        cohort_id=session.cohort_id,
        week=session.week,
        before=before,
        after={"starts_at": new_start.isoformat(), "meeting_url": meeting_url},
    )
    return True


def start_warnings(first_day: date, start: time, time_zone: str, now: datetime | None = None) -> list[str]:
    """What an admin should know before creating a cohort that starts on `first_day`."""
    planned = weekly_sessions(first_day, start, time_zone)
    now = now or utcnow()
    past = [p for p in planned if p.starts_at < now]
    if not past:
        return []
    if len(past) == len(planned):
        return ["All six sessions would be in the past. Check the first day."]
    return [
        f"The first {len(past)} session{'s' if len(past) != 1 else ''} would be in the past "
        f"(the first day is {first_day:%-d %b %Y}). Check the first day."
    ]
