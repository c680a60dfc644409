"""Rosters, waitlists and supervisors. Callers commit; errors carry a message for people.

Capacity holds under concurrent requests: every change to a cohort's roster first locks the
cohort row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serialises writers), then counts.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func
from sqlalchemy.orm import selectinload

from portal import audit, inputs, people
from portal.cohorts import notify
from portal.extensions import db
from portal.models import Cohort, Enrollment, EnrollmentStatus, Role, Supervision, User, read_rows, utcnow

MAX_IMPORT_ROWS = 500
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class RosterError(ValueError):
    pass


def lock_cohort(cohort_id: int) -> Cohort:
    cohort = db.session.execute(db.select(Cohort).where(Cohort.id == cohort_id).with_for_update()).scalar_one()
    return cohort


def enrolled_count(cohort_id: int) -> int:
    return db.session.execute(
        db.select(func.count(Enrollment.id)).where(
            Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value
        )
    ).scalar_one()


def add_trainee(cohort_id: int, user: User, by: User | None) -> Enrollment:
    """Enrol `user`, or waitlist them when the cohort is full. Re-adding a withdrawn
    trainee reopens their place (the withdrawal stays in the audit log)."""
    cohort = lock_cohort(cohort_id)
    existing = db.session.execute(
        db.select(Enrollment).where(Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id)
    ).scalar_one_or_none()
    if existing is not None and existing.status != EnrollmentStatus.WITHDRAWN.value:
        raise RosterError(f"{user.display_name} is already on this roster.")
    # Rosters never change what someone may do: only an admin grants roles.
    if not user.has_role(Role.TRAINEE) or user.deactivated_at is not None:
        raise RosterError(f"{user.display_name} is not an active trainee account: ask an admin.")
    now = utcnow()
    enrollment = existing or Enrollment(cohort_id=cohort.id, user_id=user.id)
    enrollment.added_at, enrollment.added_by_id = now, by.id if by else None
    enrollment.withdrawn_at = enrollment.withdrawn_reason = enrollment.withdrawn_by_id = None
    if enrolled_count(cohort.id) < cohort.capacity:
        enrollment.status, enrollment.enrolled_at, enrollment.waitlisted_at = EnrollmentStatus.ENROLLED.value, now, None
    else:
        enrollment.status, enrollment.enrolled_at, enrollment.waitlisted_at = (
            EnrollmentStatus.WAITLISTED.value,
            None,
            now,
        )
    db.session.add(enrollment)
    db.session.flush()
    audit.record(by, f"roster.{enrollment.status}", enrollment, cohort_id=cohort.id, user_id=user.id)
    return enrollment


def counts_by_cohort(cohort_ids: list[int]) -> dict[tuple[int, str], int]:
    """{(cohort id, enrolment status): count} for many cohorts in one query."""
    if not cohort_ids:
        return {}
    rows = read_rows(db.session, _counts_statement(), {"ids": list(cohort_ids)}).all()
    return {(cohort_id, status): n for cohort_id, status, n in rows}


@functools.cache
def _counts_statement():
    """Built once (the dashboards and the cohort list run it on every visit)."""
    return (
        db.select(Enrollment.cohort_id, Enrollment.status, func.count(Enrollment.id))
        .where(Enrollment.cohort_id.in_(bindparam("ids", expanding=True)))
        .group_by(Enrollment.cohort_id, Enrollment.status)
    )


def waitlist(cohort_id: int) -> list[Enrollment]:
    return list(
        db.session.execute(
            db.select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.WAITLISTED.value)
            .order_by(Enrollment.waitlisted_at, Enrollment.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def promote_from_waitlist(cohort: Cohort, by: User | None) -> list[Enrollment]:
    """Fill free places from the waitlist, first come first served."""
    free = cohort.capacity - enrolled_count(cohort.id)
    promoted = []
    for enrollment in waitlist(cohort.id)[: max(free, 0)]:
        enrollment.status, enrollment.enrolled_at = EnrollmentStatus.ENROLLED.value, utcnow()
        audit.record(by, "roster.promoted", enrollment, cohort_id=cohort.id, user_id=enrollment.user_id)
        notify.moved_up(enrollment)
        promoted.append(enrollment)
    return promoted


def withdraw(enrollment: Enrollment, reason: str, by: User) -> list[Enrollment]:
    """Withdraw a trainee (kept as history) and move the waitlist up. Returns who moved up."""
    cohort = lock_cohort(enrollment.cohort_id)
    # Read the place again under the lock: another request may have changed it since.
    db.session.refresh(enrollment)
    if enrollment.status == EnrollmentStatus.WITHDRAWN.value:
        raise RosterError(f"{enrollment.user.display_name} has already withdrawn.")
    was = enrollment.status
    enrollment.status = EnrollmentStatus.WITHDRAWN.value
    enrollment.withdrawn_at, enrollment.withdrawn_reason, enrollment.withdrawn_by_id = utcnow(), reason, by.id
    db.session.flush()
    audit.record(
        by, "roster.withdrawn", enrollment, cohort_id=cohort.id, user_id=enrollment.user_id, was=was, reason=reason
    )
    from portal.cohorts.dyads import leave_dyads

    leave_dyads(cohort.id, enrollment.user_id)
    from portal.attendance.makeups import close_for_withdrawal

    close_for_withdrawal(enrollment.user_id, cohort.id, by)
    return promote_from_waitlist(cohort, by) if was == EnrollmentStatus.ENROLLED.value else []


def set_capacity(cohort: Cohort, capacity: int, by: User) -> list[Enrollment]:
    cohort = lock_cohort(cohort.id)
    if capacity < 1:
        raise RosterError("Capacity must be at least 1.")
    enrolled = enrolled_count(cohort.id)
    if capacity < enrolled:
        raise RosterError(
            f"{enrolled} trainees are enrolled already; withdraw someone first or keep {enrolled} places."
        )
    cohort.capacity = capacity
    return promote_from_waitlist(cohort, by)


# --- supervisors --------------------------------------------------------------------------


def current_supervision(trainee_id: int) -> Supervision | None:
    return db.session.execute(
        db.select(Supervision).where(Supervision.trainee_id == trainee_id, Supervision.ended_at.is_(None))
    ).scalar_one_or_none()


def set_supervisor(trainee: User, supervisor: User, by: User) -> Supervision:
    if supervisor.id == trainee.id:
        raise RosterError("A trainee cannot supervise themselves.")
    # Only an admin grants the supervisor role; here we only pick someone who holds it.
    if not supervisor.has_role(Role.SUPERVISOR) or supervisor.deactivated_at is not None:
        raise RosterError(f"{supervisor.email} is not an active supervisor account: ask an admin.")
    # Two changes at once queue on the trainee's row, so the open-supervision index never
    # turns a double click into an error.
    db.session.execute(db.select(User.id).where(User.id == trainee.id).with_for_update())
    current = current_supervision(trainee.id)
    if current is not None and current.supervisor_id == supervisor.id:
        return current
    if current is not None:
        current.ended_at = utcnow()
        db.session.flush()  # the open-supervision index allows one open row at a time
    link = Supervision(trainee_id=trainee.id, supervisor_id=supervisor.id, created_by_id=by.id)
    db.session.add(link)
    db.session.flush()
    audit.record(by, "supervision.set", link, trainee_id=trainee.id, supervisor_id=supervisor.id)
    return link


# --- bulk invitations -----------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    email: str
    name: str


@dataclass
class ImportNote:
    """What to know about a valid line before adding it: the address already has an account
    (added as it is, no new account), and where else that person takes part. `warn`: sessions
    in another cohort, or a place there -- the list is shown first and added only when confirmed."""

    line: int
    email: str
    texts: list[str]
    warn: bool = False


@dataclass
class ImportResult:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)
    notes: list[ImportNote] = field(default_factory=list)

    @property
    def warnings(self) -> list[ImportNote]:
        return [n for n in self.notes if n.warn]


def parse_people_list(text: str, on_roster: set[str]) -> ImportResult:
    """Read 'name,email' lines (a CSV file, or pasted text: one per line, or just emails,
    separated by commas, semicolons or new lines). Every bad line is reported with its number."""
    result = ImportResult()
    seen: dict[str, int] = {}
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if len(lines) == 1 and not _looks_like_csv_row(lines[0]):
        lines = [part for part in re.split(r"[;,]", lines[0])]
    delimiter = _delimiter(lines)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if "\t" in raw and delimiter not in raw:  # copied from a spreadsheet: columns split by tabs
            raw = raw.replace("\t", delimiter)
        if inputs.single_line_problem(raw) or "\ufffd" in raw:
            # A name or address with control or text-direction characters (a CSV file skips the
            # form's own check): refused like any other field, shown without them.
            result.errors.append((number, inputs.visible(raw.strip()), "contains invisible control characters"))
            continue
        cells = next(csv.reader(io.StringIO(raw), delimiter=delimiter)) if delimiter in raw else [raw]
        cells = [c.strip() for c in cells if c.strip()]
        if number == 1 and [c.lower() for c in cells] in (["name", "email"], ["email", "name"], ["email"]):
            continue  # a header row
        email_cells = [c for c in cells if "@" in c]
        name_cells = [c for c in cells if "@" not in c]
        if len(email_cells) != 1:
            result.errors.append(
                (number, raw.strip(), "no email address" if not email_cells else "more than one email")
            )
            continue
        email = people.normalise_email(email_cells[0].strip("<>"))
        name = " ".join(name_cells)[:120]
        if not EMAIL_RE.match(email) or len(email) > 254:
            result.errors.append((number, raw.strip(), "not a valid email address"))
        elif email in seen:
            result.errors.append((number, raw.strip(), f"the same email as line {seen[email]}"))
        elif email in on_roster:
            result.errors.append((number, raw.strip(), "already on this roster"))
        else:
            seen[email] = number
            result.rows.append(ImportRow(number, email, name))
        if len(result.rows) + len(result.errors) > MAX_IMPORT_ROWS:
            result.errors.append((number, "", f"more than {MAX_IMPORT_ROWS} lines: split the list"))
            break
    return result


def _delimiter(lines: list[str]) -> str:
    """Semicolons separate the cells of CSV files that spreadsheet programs write in many
    countries (where the comma is the decimal mark): when the lines hold more semicolons
    than commas, they are the separator."""
    sample = [line for line in lines[:50] if line.strip()]
    semicolons = sum(line.count(";") for line in sample)
    commas = sum(line.count(",") for line in sample)
    return ";" if semicolons > commas else ","


def _looks_like_csv_row(line: str) -> bool:
    return line.count("@") <= 1


def screen_accounts(result: ImportResult, cohort_id: int | None = None) -> ImportResult:
    """Move to the errors every row whose address belongs to an account that may not be
    added as a trainee (another role, or deactivated): rosters never change roles. Rows of
    trainee accounts that exist already get a note (with `cohort_id`: also where else they
    take part, and whether sessions overlap). A few queries for the whole list."""
    emails = [row.email for row in result.rows]
    if not emails:
        return result
    refused = {}
    existing: dict[str, User] = {}
    accounts = db.select(User).options(selectinload(User.role_rows)).where(User.email.in_(emails))
    for user in db.session.execute(accounts).scalars():
        if user.deactivated_at is not None:
            refused[user.email] = "has a deactivated account: ask an admin"
        elif not user.has_role(Role.TRAINEE):
            refused[user.email] = "already has an account that is not a trainee: ask an admin"
        else:
            existing[user.email] = user
    elsewhere = other_places(cohort_id, [u.id for u in existing.values()]) if cohort_id is not None else {}
    for row in result.rows:
        user = existing.get(row.email)
        if user is None:
            continue
        if user.password_hash is None:
            text = (
                f"already has an account ({user.display_name}) but has not signed up yet: "
                "added as they are, with a new invitation that names this cohort."
            )
        else:
            text = (
                f"already has an account ({user.display_name}): added as they are (no new account, "
                "the name on this line is not used); they are told by mail and on their dashboard."
            )
        places = elsewhere.get(user.id, [])
        result.notes.append(
            ImportNote(row.line, row.email, [text] + [f"{user.display_name} {p}" for p in places], bool(places))
        )
    if refused:
        result.errors.extend((row.line, row.email, refused[row.email]) for row in result.rows if row.email in refused)
        result.errors.sort(key=lambda error: error[0])
        result.rows = [row for row in result.rows if row.email not in refused]
    return result


def add_people(cohort_id: int, rows: list[ImportRow], by: User) -> tuple[list[Enrollment], list[User]]:
    """Enrol each row's person, creating an invited trainee account for a new email; an
    existing address must already be an active trainee (only admins change roles). Returns
    (enrolments, accounts that need an invitation)."""
    outcomes: list[Enrollment] = []
    invited: list[User] = []
    for row in rows:
        user, problem = people.existing_with_role(row.email, Role.TRAINEE)
        if problem:
            raise RosterError(f"{row.email} {problem}.")
        if user is None:
            user = people.create_invited(row.email, row.name or None, {Role.TRAINEE}, by)
            # Until they choose, times are shown in the cohort's zone (not UTC).
            user.time_zone = db.session.get(Cohort, cohort_id).time_zone
            invited.append(user)
        outcomes.append(add_trainee(cohort_id, user, by))
    return outcomes, invited


def roster_emails(cohort_id: int) -> set[str]:
    return set(
        db.session.execute(
            db.select(User.email)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status != EnrollmentStatus.WITHDRAWN.value)
        ).scalars()
    )


# --- places in other cohorts ------------------------------------------------------------------


def other_places(cohort_id: int, user_ids: list[int]) -> dict[int, list[str]]:
    """For each person: what to know before adding them to `cohort_id` -- the other cohorts
    they take part in (or wait for) that have not ended, and which sessions of the two
    cohorts overlap. Two queries, whatever the number of people."""
    from portal.models import CohortSession

    if not user_ids:
        return {}
    now = utcnow()
    places = db.session.execute(
        db.select(Enrollment.user_id, Enrollment.status, Cohort.id, Cohort.name)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(
            Enrollment.user_id.in_(user_ids),
            Enrollment.cohort_id != cohort_id,
            Enrollment.status != EnrollmentStatus.WITHDRAWN.value,
            Cohort.ends_at > now,
        )
        .order_by(Cohort.starts_at)
    ).all()
    if not places:
        return {}
    cohort_ids = {p.id for p in places} | {cohort_id}
    sessions: dict[int, list] = {}
    for s in db.session.execute(
        db.select(CohortSession.cohort_id, CohortSession.week, CohortSession.starts_at, CohortSession.duration_minutes)
        .where(CohortSession.cohort_id.in_(cohort_ids))
        .order_by(CohortSession.starts_at)
    ):
        sessions.setdefault(s.cohort_id, []).append(s)
    ours = sessions.get(cohort_id, [])
    found: dict[int, list[str]] = {}
    for place in places:
        clashes = [
            (mine.week, theirs.week)
            for mine in ours
            for theirs in sessions.get(place.id, [])
            if mine.starts_at < theirs.starts_at + _minutes(theirs.duration_minutes)
            and theirs.starts_at < mine.starts_at + _minutes(mine.duration_minutes)
        ]
        where = "is on the waitlist of" if place.status == EnrollmentStatus.WAITLISTED.value else "is taking part in"
        text = f"{where} {place.name}"
        if clashes:
            text += "; sessions overlap: " + ", ".join(f"week {a} here with week {b} there" for a, b in clashes)
        else:
            text += " (no sessions overlap)"
        found.setdefault(place.user_id, []).append(text + ".")
    return found


def _minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)
