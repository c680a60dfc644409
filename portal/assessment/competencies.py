"""The ten competencies and the supervisors who confirm them. No Flask here; callers commit.

The rules:
- Each trainee has a record per competency (no row yet means pending).
- Only the trainee's *current* supervisor (the open Supervision row) answers: confirm (with an
  optional note of evidence) or decline (with a reason the trainee reads). A former supervisor,
  the trainee themselves, and facilitators never do.
- An answer can be changed until the trainee's certificate is issued; every answer is kept in
  `competency_decisions`.
- Competencies 9 and 10 are emerging: shown and answered, not required by default.
- Supervisors are reminded weekly while a trainee of theirs who has reached week 6 has a
  required competency without an answer: one mail per supervisor per week, none when nothing
  waits (`send_weekly_reminders`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError

from portal import mail
from portal.cohorts import curriculum
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortSession,
    CohortStatus,
    CompetencyDecision,
    CompetencyRecord,
    CompetencyReminder,
    Enrollment,
    EnrollmentStatus,
    ReminderSubscription,
    Supervision,
    User,
    WeekSixNotice,
    read_rows,
    utcnow,
)

COMPETENCIES: dict[int, str] = curriculum.COMPETENCY_NAMES
EMERGING = curriculum.EMERGING
REQUIRED = frozenset(n for n in COMPETENCIES if n not in EMERGING)
PENDING, CONFIRMED, DECLINED = "pending", "confirmed", "declined"


class CompetencyError(ValueError):
    pass


class NotSupervisor(CompetencyError):  # noqa: N818
    pass


def label(number: int) -> str:
    return f"{number}. {COMPETENCIES[number]}" + (" (emerging)" if number in EMERGING else "")


# --- the certificate hook ----------------------------------------------------------------------


def certificate_issued(trainee_id: int) -> bool:
    """True once the trainee holds a valid certificate (certification area), after which
    supervisors can no longer change their answers."""
    from portal.certification.certificates import holds_certificate

    return holds_certificate(trainee_id)


# --- who supervises whom -----------------------------------------------------------------------


def supervises(supervisor_id: int, trainee_id: int) -> bool:
    """Is this the trainee's current supervisor (an open supervision row)?"""
    if supervisor_id == trainee_id:
        return False
    return (
        db.session.execute(
            db.select(Supervision.id).where(
                Supervision.trainee_id == trainee_id,
                Supervision.supervisor_id == supervisor_id,
                Supervision.ended_at.is_(None),
            )
        ).first()
        is not None
    )


def current_supervisor_id(trainee_id: int) -> int | None:
    return db.session.execute(
        db.select(Supervision.supervisor_id).where(Supervision.trainee_id == trainee_id, Supervision.ended_at.is_(None))
    ).scalar_one_or_none()


# --- answers ------------------------------------------------------------------------------------


def _record(trainee_id: int, number: int) -> CompetencyRecord:
    query = db.select(CompetencyRecord).where(
        CompetencyRecord.trainee_id == trainee_id, CompetencyRecord.competency == number
    )
    record = db.session.execute(query.with_for_update()).scalar_one_or_none()
    if record is None:
        try:
            with db.session.begin_nested():
                record = CompetencyRecord(trainee_id=trainee_id, competency=number, status=PENDING, version=0)
                db.session.add(record)
        except IntegrityError:
            record = db.session.execute(query.with_for_update()).scalar_one()
    return record


def decide(trainee_id: int, numbers: Iterable[int], status: str, note: str | None, supervisor: User) -> list[int]:
    """Confirm or decline competencies for a trainee, as their supervisor. Returns the numbers
    whose answer changed (an answer equal to the current one is not repeated in the history)."""
    numbers = sorted(set(numbers))
    note = (note or "").strip() or None
    if status not in (CONFIRMED, DECLINED):
        raise CompetencyError("Confirm or decline.")
    if not numbers:
        raise CompetencyError("Choose at least one competency.")
    if any(n not in COMPETENCIES for n in numbers):
        raise CompetencyError("Choose among the ten competencies.")
    if status == DECLINED and not note:
        raise CompetencyError("Give the trainee a reason when you decline.")
    # Lock the open supervision row: a change of supervisor and an answer are serialised.
    current = db.session.execute(
        db.select(Supervision.supervisor_id)
        .where(Supervision.trainee_id == trainee_id, Supervision.ended_at.is_(None))
        .with_for_update()
    ).scalar_one_or_none()
    if current != supervisor.id or trainee_id == supervisor.id:
        raise NotSupervisor("Only the trainee's current supervisor can answer for their competencies.")
    if certificate_issued(trainee_id):
        raise CompetencyError("The certificate has been issued: the answers can no longer change.")
    now = utcnow()
    changed = []
    for number in numbers:
        record = _record(trainee_id, number)
        if record.status == status and (note is None or (record.note or None) == note):
            continue  # the same answer again: with no new note, the note given before stays
        record.status, record.note = status, note
        record.decided_by_id, record.decided_at = supervisor.id, now
        record.version = (record.version or 0) + 1
        db.session.add(
            CompetencyDecision(
                trainee_id=trainee_id,
                competency=number,
                status=status,
                note=note,
                supervisor_id=supervisor.id,
                decided_at=now,
            )
        )
        changed.append(number)
    db.session.flush()
    return changed


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    number: int
    status: str
    note: str | None
    decided_by: str | None
    decided_at: datetime | None

    @property
    def name(self) -> str:
        return COMPETENCIES[self.number]

    @property
    def emerging(self) -> bool:
        return self.number in EMERGING


def standings(trainee_ids: Iterable[int]) -> dict[int, list[Standing]]:
    """Each trainee's ten competencies, in order (one query whatever the number of trainees)."""
    ids = list(trainee_ids)
    found: dict[tuple[int, int], Standing] = {}
    if ids:
        rows = read_rows(db.session, _standings_statement(), {"ids": ids})
        for trainee_id, number, status, note, by, at in rows:
            found[(trainee_id, number)] = Standing(number, status, note, by, at)
    return {t: [found.get((t, n)) or Standing(n, PENDING, None, None, None) for n in COMPETENCIES] for t in ids}


@functools.cache
def _standings_statement():
    """Built once (every trainee's dashboard reads it): the trainees are parameter `ids`."""
    return (
        db.select(
            CompetencyRecord.trainee_id,
            CompetencyRecord.competency,
            CompetencyRecord.status,
            CompetencyRecord.note,
            User.display_name,
            CompetencyRecord.decided_at,
        )
        .outerjoin(User, User.id == CompetencyRecord.decided_by_id)
        .where(CompetencyRecord.trainee_id.in_(bindparam("ids", expanding=True)))
    )


def history(trainee_id: int) -> list[CompetencyDecision]:
    return list(
        db.session.execute(
            db.select(CompetencyDecision)
            .where(CompetencyDecision.trainee_id == trainee_id)
            .order_by(CompetencyDecision.decided_at.desc(), CompetencyDecision.id.desc())
        ).scalars()
    )


def waiting(standing_list: list[Standing]) -> list[int]:
    """Required competencies without an answer."""
    return [s.number for s in standing_list if s.number in REQUIRED and s.status == PENDING]


# --- what the certification issue reads ---------------------------------------------------------


def confirmed_competencies(trainee_id: int) -> frozenset[int]:
    """The numbers of the competencies the trainee's supervisor has confirmed (latest answer)."""
    return frozenset(
        db.session.execute(
            db.select(CompetencyRecord.competency).where(
                CompetencyRecord.trainee_id == trainee_id, CompetencyRecord.status == CONFIRMED
            )
        ).scalars()
    )


def competencies_confirmed(trainee_id: int, required: Iterable[int] = REQUIRED) -> bool:
    """Are all required competencies (by default 1-8) confirmed for this trainee?"""
    return set(required) <= confirmed_competencies(trainee_id)


# --- reminders ----------------------------------------------------------------------------------


def week_of(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the week `moment` falls in."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def reached_week_six(now: datetime):
    """Trainee ids enrolled in a cohort (not archived) whose week-6 session has started."""
    return (
        db.select(Enrollment.user_id)
        .join(CohortSession, (CohortSession.cohort_id == Enrollment.cohort_id) & (CohortSession.week == 6))
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
            CohortSession.starts_at <= now,
            Cohort.status != CohortStatus.ARCHIVED.value,
        )
    )


def pending_by_supervisor(now: datetime) -> dict[int, list[int]]:
    """Supervisor id -> their trainees (week 6 reached) with a required competency unanswered."""
    answered = (
        db.select(CompetencyRecord.trainee_id)
        .where(CompetencyRecord.competency.in_(REQUIRED), CompetencyRecord.status != PENDING)
        .group_by(CompetencyRecord.trainee_id)
        .having(func.count(CompetencyRecord.id) >= len(REQUIRED))
    )
    rows = db.session.execute(
        db.select(Supervision.supervisor_id, Supervision.trainee_id)
        .join(User, User.id == Supervision.supervisor_id)
        .where(
            Supervision.ended_at.is_(None),
            Supervision.trainee_id.in_(reached_week_six(now)),
            Supervision.trainee_id.not_in(answered),
            User.deactivated_at.is_(None),
        )
        .order_by(Supervision.supervisor_id, Supervision.trainee_id)
    ).all()
    result: dict[int, list[int]] = {}
    for supervisor_id, trainee_id in rows:
        if not certificate_issued(trainee_id):
            result.setdefault(supervisor_id, []).append(trainee_id)
    return result


def send_weekly_reminders(now: datetime | None = None) -> int:
    """One mail per supervisor per week while trainees wait for them; returns how many were
    queued. Safe to run again in the same week (the reminder rows' unique constraint)."""
    now = now or utcnow()
    week = week_of(now)
    sent = 0
    stopped = unsubscribed_ids()
    for supervisor_id, trainee_ids in pending_by_supervisor(now).items():
        if supervisor_id in stopped:
            continue  # unsubscribed from the weekly reminder (the week-6 notice still goes)
        supervisor = db.session.get(User, supervisor_id)
        trainees = list(db.session.execute(db.select(User).where(User.id.in_(trainee_ids))).scalars())
        try:
            with db.session.begin_nested():
                db.session.add(CompetencyReminder(supervisor_id=supervisor_id, week_of=week, trainees=len(trainees)))
        except IntegrityError:
            continue  # already reminded this week
        mail.send(
            supervisor.email,
            "Competencies waiting for your confirmation",
            "mail/competency_reminder.txt",
            supervisor=supervisor,
            trainees=sorted(trainees, key=lambda u: u.display_name),
            link=_supervision_link(),
            unsubscribe=(unsubscribe := _unsubscribe_link(supervisor_id)),
            headers={"List-Unsubscribe": f"<{unsubscribe}>"},
        )
        sent += 1
    db.session.commit()
    return sent


def request_confirmation(trainee: User, by: User) -> User:
    """Mail the trainee's current supervisor (a facilitator resending the request)."""
    supervisor_id = current_supervisor_id(trainee.id)
    if supervisor_id is None:
        raise CompetencyError(f"{trainee.display_name} has no supervisor yet.")
    supervisor = db.session.get(User, supervisor_id)
    if supervisor.deactivated_at is not None:
        raise CompetencyError(
            f"{supervisor.display_name}'s account is deactivated: ask an admin to change the supervisor."
        )
    mail.send(
        supervisor.email,
        f"Please confirm {trainee.display_name}'s competencies",
        "mail/competency_request.txt",
        supervisor=supervisor,
        trainee=trainee,
        sender=by,
        link=_supervision_link(trainee.id),
    )
    return supervisor


# --- the week-6 notice --------------------------------------------------------------------------


def due_notices(now: datetime) -> list[tuple[int, int, int]]:
    """(supervisor id, trainee id, cohort id) for each trainee with a current, active supervisor
    whose cohort's week 6 has started and who has no notice yet."""
    return list(
        db.session.execute(
            db.select(Supervision.supervisor_id, Supervision.trainee_id, Enrollment.cohort_id)
            .join(User, User.id == Supervision.supervisor_id)
            .join(Enrollment, Enrollment.user_id == Supervision.trainee_id)
            .join(CohortSession, (CohortSession.cohort_id == Enrollment.cohort_id) & (CohortSession.week == 6))
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .where(
                Supervision.ended_at.is_(None),
                User.deactivated_at.is_(None),
                Enrollment.status == EnrollmentStatus.ENROLLED.value,
                CohortSession.starts_at <= now,
                Cohort.status != CohortStatus.ARCHIVED.value,
                Supervision.trainee_id.not_in(db.select(WeekSixNotice.trainee_id)),
            )
            .order_by(Supervision.trainee_id, CohortSession.starts_at)
        ).all()
    )


def send_week_six_notices(now: datetime | None = None) -> int:
    """Tell each supervisor, once per trainee, that a trainee of theirs has reached week 6: a
    `week_six_notices` row (their page shows it) and a mail, in one transaction. Safe to run
    twice at once: the row's unique constraint lets one run write it, the other skips it
    (on PostgreSQL the second INSERT waits for the first to commit, then fails). Unsubscribing
    from the weekly reminder does not stop this notice. Returns how many were sent."""
    now = now or utcnow()
    sent, seen = 0, set()
    for supervisor_id, trainee_id, cohort_id in due_notices(now):
        if trainee_id in seen:
            continue  # enrolled in two cohorts that reached week 6: one notice
        seen.add(trainee_id)
        try:
            with db.session.begin_nested():
                db.session.add(WeekSixNotice(trainee_id=trainee_id, supervisor_id=supervisor_id, cohort_id=cohort_id))
        except IntegrityError:
            continue  # another run sent it
        supervisor, trainee = db.session.get(User, supervisor_id), db.session.get(User, trainee_id)
        mail.send(
            supervisor.email,
            f"{trainee.display_name} has reached week 6",
            "mail/week_six_notice.txt",
            supervisor=supervisor,
            trainee=trainee,
            cohort=db.session.get(Cohort, cohort_id),
            link=_supervision_link(trainee_id),
        )
        sent += 1
    db.session.commit()
    return sent


def notices_for(supervisor_id: int, limit: int = 20) -> list[tuple[WeekSixNotice, str, str | None]]:
    """The supervisor's latest week-6 notices: (notice, trainee's name, cohort's name)."""
    return list(
        db.session.execute(
            db.select(WeekSixNotice, User.display_name, Cohort.name)
            .join(User, User.id == WeekSixNotice.trainee_id)
            .outerjoin(Cohort, Cohort.id == WeekSixNotice.cohort_id)
            .where(WeekSixNotice.supervisor_id == supervisor_id)
            .order_by(WeekSixNotice.sent_at.desc(), WeekSixNotice.id.desc())
            .limit(limit)
        ).all()
    )


# --- unsubscribing from the weekly reminder ------------------------------------------------------

UNSUBSCRIBE_SALT = "assessment.reminders.unsubscribe"


def unsubscribe_token(secret: str, supervisor_id: int) -> str:
    """A signed token naming the supervisor: the unsubscribe link of the weekly reminder."""
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"supervisor": supervisor_id})


def supervisor_of_token(secret: str, token: str) -> int | None:
    """The supervisor a token names, or None when it is forged, altered or malformed."""
    try:
        data = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadData:
        return None
    supervisor_id = data.get("supervisor") if isinstance(data, dict) else None
    return supervisor_id if isinstance(supervisor_id, int) and not isinstance(supervisor_id, bool) else None


def unsubscribed_ids() -> set[int]:
    return set(
        db.session.execute(
            db.select(ReminderSubscription.supervisor_id).where(ReminderSubscription.unsubscribed_at.is_not(None))
        ).scalars()
    )


def gets_reminders(supervisor_id: int) -> bool:
    return supervisor_id not in set(
        db.session.execute(
            db.select(ReminderSubscription.supervisor_id).where(
                ReminderSubscription.supervisor_id == supervisor_id, ReminderSubscription.unsubscribed_at.is_not(None)
            )
        ).scalars()
    )


def set_reminders(supervisor_id: int, wanted: bool) -> bool:
    """Subscribe (wanted) or unsubscribe a supervisor; True when their choice changed."""
    query = db.select(ReminderSubscription).where(ReminderSubscription.supervisor_id == supervisor_id)
    row = db.session.execute(query.with_for_update()).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                row = ReminderSubscription(supervisor_id=supervisor_id, unsubscribed_at=None)
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(query.with_for_update()).scalar_one()
    if (row.unsubscribed_at is None) == wanted:
        return False
    now = utcnow()
    row.unsubscribed_at, row.changed_at = (None if wanted else now), now
    db.session.flush()
    return True


def _unsubscribe_link(supervisor_id: int) -> str:
    from flask import current_app

    from portal.web import external_url

    return external_url("assessment.unsubscribe", token=unsubscribe_token(current_app.secret_key, supervisor_id))


def _supervision_link(trainee_id: int | None = None) -> str:
    from portal.web import external_url  # a link in a mail: the one place this module meets Flask

    if trainee_id is None:
        return external_url("assessment.supervision")
    return external_url("assessment.supervisee", trainee_id=trainee_id)
