"""Demo data of the certification area, and `record_requirements`: what the other areas would
have recorded for a trainee who did everything (also used by tests and the matrix's world).

`seed_demo` adds a completed *Autumn Cohort 2026* run by facilitator1, with graduate01..06
(same password as everyone): graduate01-05 certified (graduate02's certificate reissued after
a name change), graduate06 missing one competency confirmation. Some graduates appear on the
celebration page.
"""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import (
    Attempt,
    AttemptStatus,
    Attendance,
    Cohort,
    CohortSession,
    CompetencyRecord,
    Offering,
    OralExam,
    User,
    utcnow,
)

ALL = ("attendance", "oral_exam", "written_test", "competencies")


def _offering(cohort: Cohort, by: User) -> Offering:
    offering = db.session.execute(
        db.select(Offering).where(Offering.cohort_id == cohort.id).order_by(Offering.opens_at.desc()).limit(1)
    ).scalar_one_or_none()
    if offering is None:
        week6 = cohort.sessions[-1]
        offering = Offering(
            kind="cohort",
            cohort_id=cohort.id,
            opens_at=week6.starts_at,
            closes_at=week6.starts_at + timedelta(days=7),
            time_limit_minutes=60,
            attempts_allowed=2,
            wait_hours=24,
            blueprint=[7, 7, 7, 7, 6, 6],
            required_competencies=[],
            created_by_id=by.id,
        )
        db.session.add(offering)
        db.session.flush()
    return offering


def _exam(cohort: Cohort, facilitator: User) -> OralExam:
    from portal.assessment import checklists, oral_exam

    week6 = next(s for s in cohort.sessions if s.week == 6)
    exam = db.session.execute(db.select(OralExam).where(OralExam.session_id == week6.id).limit(1)).scalar_one_or_none()
    if exam is None:
        template = checklists.ensure_default(facilitator)
        # Opened as at the week-6 session itself (the records may be of a cohort still ahead).
        exam = oral_exam.open_exam(week6, template.id, facilitator, now=week6.starts_at)
    return exam


def record_requirements(
    trainee: User,
    cohort: Cohort,
    facilitator: User,
    supervisor: User | None = None,
    *,
    skip: tuple[str, ...] = (),
    weeks: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    competencies: tuple[int, ...] = tuple(range(1, 11)),
    score: int = 36,
) -> None:
    """Record, as the other areas do, what a trainee who did everything has: present in
    `weeks` (120 min), the oral exam passed, a submitted written test of `score`/40, and
    `competencies` confirmed. Leave out any of ALL with `skip`. Flushes, never commits."""
    from portal.assessment import oral_exam

    now = utcnow()
    if "attendance" not in skip:
        for session in db.session.execute(
            db.select(CohortSession).where(CohortSession.cohort_id == cohort.id, CohortSession.week.in_(weeks))
        ).scalars():
            db.session.add(
                Attendance(
                    session_id=session.id,
                    user_id=trainee.id,
                    status="present",
                    minutes=120,
                    source="roll",
                    marked_by_id=facilitator.id,
                )
            )
    if "oral_exam" not in skip:
        exam = _exam(cohort, facilitator)
        for item in oral_exam.items_of(exam):
            oral_exam.set_mark(exam, trainee.id, item.id, oral_exam.MET, 0, facilitator)
        oral_exam.finalise(exam, trainee.id, facilitator)
    if "written_test" not in skip:
        offering = _offering(cohort, facilitator)
        used = db.session.execute(
            db.select(db.func.count(Attempt.id)).where(
                Attempt.offering_id == offering.id, Attempt.user_id == trainee.id
            )
        ).scalar_one()
        db.session.add(
            Attempt(
                offering_id=offering.id,
                user_id=trainee.id,
                number=used + 1,
                status=AttemptStatus.SUBMITTED.value,
                started_at=now - timedelta(hours=1),
                deadline=now,
                submitted_at=now - timedelta(minutes=10),
                submitted_by="trainee",
                item_count=40,
                correct=score,
                passed=score * 100 >= offering.pass_percent * 40,
            )
        )
    if "competencies" not in skip:
        for number in competencies:
            db.session.add(
                CompetencyRecord(
                    trainee_id=trainee.id,
                    competency=number,
                    status="confirmed",
                    decided_by_id=(supervisor or facilitator).id,
                    decided_at=now,
                    version=1,
                )
            )
    db.session.flush()


# --- seed-demo ----------------------------------------------------------------------------------------


def seed_demo(people: dict[str, User]) -> None:
    from datetime import time
    from zoneinfo import ZoneInfo

    from portal.auth.passwords import hash_password  # noqa: F401  (the people's hashes are copied)
    from portal.certification import certificates
    from portal.cohorts import roster
    from portal.cohorts.manage import create_cohort
    from portal.models import CohortStatus

    admin = people["admin@example.org"]
    facilitator = people["facilitator1@example.org"]
    supervisor = people["supervisor1@example.org"]
    zone = "America/New_York"
    first_day = utcnow().astimezone(ZoneInfo(zone)).date() - timedelta(weeks=9)
    cohort = create_cohort(
        name="Autumn Cohort 2026",
        facilitators=[facilitator],
        first_day=first_day,
        start=time(18, 0),
        time_zone=zone,
        meeting_url="https://video.example.org/autumn-cohort-2026",
        capacity=12,
        notes=None,
        status=CohortStatus.ENROLLING,
        by=admin,
    )
    names = ["Grace Graduate", "Gabriel Graduate", "Gina Graduate", "Gordon Graduate", "Greta Graduate", "Gus Graduate"]
    graduates = []
    for n, name in enumerate(names, start=1):
        user = User(
            email=f"graduate{n:02d}@example.org",
            display_name=name,
            password_hash=admin.password_hash,
            activated_at=utcnow(),
            time_zone=zone,
            organisation="Riverside Recovery Centre",
        )
        from portal.models import Role

        user.set_roles({Role.TRAINEE})
        db.session.add(user)
        db.session.flush()
        people[user.email] = user
        roster.add_trainee(cohort.id, user, admin)
        roster.set_supervisor(user, supervisor, admin)
        graduates.append(user)
    db.session.flush()
    for n, user in enumerate(graduates, start=1):
        competencies = tuple(range(1, 11)) if n < 6 else tuple(c for c in range(1, 11) if c != 7)
        record_requirements(user, cohort, facilitator, supervisor, competencies=competencies, score=32 + n)
    for n, user in enumerate(graduates[:5], start=1):
        if n in (1, 3, 4):
            certificates.save_choice(
                user, cohort.id, None, True, "Thank you all for six weeks of learning together!" if n == 1 else None
            )
        certificates.issue(user, cohort, by=facilitator)
    second = certificates.current_certificate(graduates[1].id, cohort.id)
    certificates.reissue(second, "Gabriela Graduate", "Name change", admin)
    db.session.flush()
