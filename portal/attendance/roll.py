"""The roll and self check-in against the database (no Flask requests: routes, the demo seed
and tests call these). Who takes part in a session: the cohort's enrolled trainees and the
people whose make-up request for it was accepted."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import audit
from portal.attendance import codes, hours, makeups, rules
from portal.extensions import db
from portal.models import (
    Attendance,
    AttendanceSource,
    CheckinFailure,
    CheckinWindow,
    CohortSession,
    Enrollment,
    EnrollmentStatus,
    MakeupRequest,
    User,
    utcnow,
)

WRONG_CODE_LIMIT = 10
WRONG_CODE_PERIOD = timedelta(minutes=10)


# --- who is on the roll --------------------------------------------------------------------------


def place_in(user_id: int, session: CohortSession) -> str | None:
    """"own" (enrolled in the session's cohort), "makeup" (accepted make-up for this very
    session) or None (not taking part: waitlisted, withdrawn, another cohort...)."""
    status = db.session.execute(
        select(Enrollment.status).where(Enrollment.cohort_id == session.cohort_id, Enrollment.user_id == user_id)
    ).scalar_one_or_none()
    if status == EnrollmentStatus.ENROLLED.value:
        return "own"
    accepted = db.session.execute(
        select(MakeupRequest.id).where(
            MakeupRequest.user_id == user_id, MakeupRequest.host_session_id == session.id, makeups.standing()
        )
    ).first()
    return "makeup" if accepted else None


@dataclass
class RollEntry:
    user_id: int
    name: str
    email: str
    makeup: bool
    attendance: Attendance | None


def roll(session: CohortSession) -> list[RollEntry]:
    """Enrolled trainees and accepted make-ups, with their attendance: three queries."""
    people = db.session.execute(
        select(User.id, User.display_name, User.email)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.cohort_id == session.cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
    ).all()
    guests = db.session.execute(
        select(User.id, User.display_name, User.email)
        .join(MakeupRequest, MakeupRequest.user_id == User.id)
        .where(MakeupRequest.host_session_id == session.id, makeups.standing())
    ).all()
    marks = {
        a.user_id: a
        for a in db.session.execute(select(Attendance).where(Attendance.session_id == session.id)).scalars()
    }
    entries = [RollEntry(p.id, p.display_name, p.email, False, marks.get(p.id)) for p in people]
    entries += [RollEntry(p.id, p.display_name, p.email, True, marks.get(p.id)) for p in guests]
    return sorted(entries, key=lambda e: (e.makeup, e.name.lower(), e.user_id))


def version(session_id: int) -> str:
    """Changes whenever a mark is added or changed: the count and the latest change (one
    query on an index)."""
    count, latest = db.session.execute(
        select(func.count(Attendance.id), func.max(Attendance.updated_at)).where(Attendance.session_id == session_id)
    ).one()
    return _version(count, latest)


def _version(count: int, latest) -> str:
    stamp = latest.timestamp() if hasattr(latest, "timestamp") else (latest or 0)
    return f"{count}-{stamp}".replace(".", "_").replace(":", "_").replace(" ", "_")


@dataclass(frozen=True)
class PollState:
    """What the roll's idle poll needs, for one person: whether they facilitate the
    session's cohort (authz "poll_roll") and the roll's version."""

    facilitates: bool
    version: str


@functools.cache
def _poll_statement():
    """Built once (the poll runs every few seconds per open roll): parameters sid and uid."""
    from portal.models import CohortFacilitator

    facilitates = (
        select(CohortFacilitator.id)
        .where(
            CohortFacilitator.cohort_id == CohortSession.cohort_id,
            CohortFacilitator.user_id == bindparam("uid", type_=Integer),
        )
        .exists()
    )
    return (
        select(facilitates.label("facilitates"), func.count(Attendance.id), func.max(Attendance.updated_at))
        .select_from(CohortSession)
        .outerjoin(Attendance, Attendance.session_id == CohortSession.id)
        .where(CohortSession.id == bindparam("sid", type_=Integer))
        .group_by(CohortSession.id, CohortSession.cohort_id)
    )


def poll_state(session_id: int, user_id: int) -> PollState | None:
    """One query: the session's roll version and whether `user_id` facilitates its cohort
    (None: no such session)."""
    row = db.session.execute(_poll_statement(), {"sid": session_id, "uid": user_id}).first()
    if row is None:
        return None
    return PollState(bool(row[0]), _version(row[1], row[2]))


# --- check-in window -------------------------------------------------------------------------------


def window(session_id: int) -> CheckinWindow | None:
    return db.session.execute(select(CheckinWindow).where(CheckinWindow.session_id == session_id)).scalar_one_or_none()


def open_checkin(session: CohortSession, by: User, now: datetime | None = None) -> CheckinWindow:
    now = now or utcnow()
    row = window(session.id)
    if row is None:
        row = CheckinWindow(session_id=session.id, secret=codes.new_secret())
        db.session.add(row)
    row.opened_at, row.opened_by_id, row.closed_at = now, by.id, None
    audit.record(by, "checkin.opened", session)
    return row


def close_checkin(session: CohortSession, by: User, now: datetime | None = None) -> None:
    row = window(session.id)
    if row is not None and row.is_open:
        row.closed_at = now or utcnow()
        audit.record(by, "checkin.closed", session)


def current_code(session: CohortSession, now: datetime | None = None) -> str | None:
    row = window(session.id)
    if row is None or not row.is_open:
        return None
    return codes.current(row.secret, session.id, now or utcnow())


# --- self check-in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    status: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class Mark:
    """A person's mark as the check-in box shows it."""

    status: str
    minutes: int | None


def mark_of(session_id: int, user_id: int) -> Mark | None:
    row = db.session.execute(
        select(Attendance.status, Attendance.minutes).where(
            Attendance.session_id == session_id, Attendance.user_id == user_id
        )
    ).first()
    return None if row is None else Mark(row.status, row.minutes)


def _insert(values: dict):
    """INSERT ... ON CONFLICT DO NOTHING on (session_id, user_id): a second check-in at the
    same moment (another worker, a double tap) is a no-op, never an error."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Attendance).values(**values).on_conflict_do_nothing(index_elements=["session_id", "user_id"])
    return db.session.execute(statement.returning(Attendance.id)).scalar_one_or_none()


def wrong_codes(user_id: int, now: datetime) -> int:
    return db.session.execute(
        select(func.count(CheckinFailure.id)).where(
            CheckinFailure.user_id == user_id, CheckinFailure.at > now - WRONG_CODE_PERIOD
        )
    ).scalar_one()


def _already(existing) -> Outcome:
    """The answer to someone already on the roll (a facilitator's mark wins: it stays)."""
    label = existing.status.replace("_", " ")
    if existing.source == AttendanceSource.ROLL.value:
        return Outcome(True, f"Your facilitator has already marked you {label}.", existing.status, existing.minutes)
    return Outcome(True, f"You are already checked in ({label}).", existing.status, existing.minutes)


def check_in(session: CohortSession, user: User, typed: str | None, now: datetime | None = None) -> Outcome:
    """The person checks themselves in with the code. The caller has checked that they may
    (authz "check_in"); the caller commits."""
    now = now or utcnow()
    if not rules.is_live(session.starts_at, session.ends_at, now):
        if now < session.starts_at:
            return Outcome(False, "This session has not started yet: check-in opens when it is live.")
        return Outcome(False, "This session has ended: check-in is closed. Ask your facilitator to mark you.")
    # The window and the person's recent wrong codes in one query (a burst of 200 check-ins).
    failures = (
        select(func.count(CheckinFailure.id))
        .where(CheckinFailure.user_id == user.id, CheckinFailure.at > now - WRONG_CODE_PERIOD)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            CheckinWindow.secret,
            CheckinWindow.opened_at,
            CheckinWindow.closed_at,
            failures,
            Attendance.status,
            Attendance.source,
            Attendance.minutes,
        )
        .outerjoin(Attendance, (Attendance.session_id == CheckinWindow.session_id) & (Attendance.user_id == user.id))
        .where(CheckinWindow.session_id == session.id)
    ).first()
    if row is None or row.opened_at is None or row.closed_at is not None:
        return Outcome(False, "Check-in is not open yet. Your facilitator opens it during the session.")
    if row[3] >= WRONG_CODE_LIMIT:
        return Outcome(False, "Too many wrong codes. Wait 10 minutes, or ask your facilitator to mark you present.")
    if not codes.accepts(row.secret, session.id, typed, now):
        db.session.add(CheckinFailure(user_id=user.id, session_id=session.id, at=now))
        return Outcome(False, "That code is not right. Check the code on the facilitator's screen and try again.")
    if row.status is not None:  # already marked: checking in again changes nothing
        return _already(row)
    mark = rules.self_checkin(session.starts_at, session.duration_minutes, now)
    inserted = _insert(
        dict(
            session_id=session.id,
            user_id=user.id,
            status=mark.status,
            minutes=mark.minutes,
            source=AttendanceSource.SELF.value,
            checked_in_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    if inserted is None:
        existing = db.session.execute(
            select(Attendance.status, Attendance.source, Attendance.minutes).where(
                Attendance.session_id == session.id, Attendance.user_id == user.id
            )
        ).one()
        return _already(existing)
    if mark.status == "late":
        return Outcome(True, f"You are checked in, marked late ({mark.minutes} minutes).", mark.status, mark.minutes)
    return Outcome(True, "You are checked in: present.", mark.status, mark.minutes)


# --- the facilitator's roll ------------------------------------------------------------------------------


def _snapshot(a: Attendance | None) -> dict | None:
    if a is None:
        return None
    return {"status": a.status, "minutes": a.minutes, "note": a.note, "source": a.source}


def mark(
    session: CohortSession,
    user_id: int,
    status: str,
    minutes: int,
    note: str | None,
    by: User,
    now: datetime | None = None,
) -> Attendance:
    """Set one person's mark on the roll (a facilitator's mark wins over any check-in). A
    change after the session's end is in the audit log with before and after."""
    now = now or utcnow()
    row = db.session.execute(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == user_id).with_for_update()
    ).scalar_one_or_none()
    before = _snapshot(row)
    if row is None:
        row = Attendance(session_id=session.id, user_id=user_id, created_at=now)
        db.session.add(row)
    row.status, row.minutes, row.note = status, minutes, note
    row.source, row.marked_by_id, row.updated_at = AttendanceSource.ROLL.value, by.id, now
    after = _snapshot(row)
    if now >= session.ends_at and before != after:
        db.session.flush()
        audit.record(
            by, "attendance.corrected", row, session_id=session.id, user_id=user_id, before=before, after=after
        )
    return row


def mark_everyone_present(session: CohortSession, by: User, now: datetime | None = None) -> int:
    """Everyone on the roll without a mark becomes present (the whole session)."""
    now = now or utcnow()
    count = 0
    for entry in roll(session):
        if entry.attendance is None:
            mark(session, entry.user_id, "present", session.duration_minutes, None, by, now)
            count += 1
    return count


# --- the cohort's attendance as CSV ----------------------------------------------------------------------


def cohort_csv(cohort, rule: hours.Rule | None = None) -> str:
    """One row per enrolled trainee; per week the status and minutes (a make-up says so);
    weeks covered and total hours."""
    people = db.session.execute(
        select(User.id, User.display_name, User.email)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
        .order_by(func.lower(User.display_name), User.id)
    ).all()
    sums = hours.summaries(db.session, cohort.id, [p.id for p in people], rule)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["name", "email"]
    for w in hours.WEEKS:
        header += [f"week {w} status", f"week {w} minutes"]
    writer.writerow(header + ["weeks covered", "total hours"])
    for p in people:
        s = sums[p.id]
        row = [_safe(p.display_name), p.email]
        for w in hours.WEEKS:
            info = s.weeks[w]
            status = (info.status or "").replace("_", " ")
            row += [f"{status} (make-up)" if info.makeup and status else status, info.minutes]
        writer.writerow(row + [len(s.covered_weeks), f"{s.total_hours:g}"])
    return out.getvalue()


def _safe(text: str) -> str:
    """No spreadsheet formulas from people's names."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
