"""Word when something changes for people of a cohort: a note on their dashboard and a mail
through the outbox, both written in the caller's transaction (they exist with the change, or
not at all). Times are given in each person's own zone."""

from __future__ import annotations

import functools
from datetime import datetime

from flask import url_for
from sqlalchemy import Integer, bindparam

from portal import mail
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    Enrollment,
    EnrollmentStatus,
    Notice,
    User,
    read_rows,
)
from portal.web import external_url, path_for


def in_zone(value: datetime, user) -> str:
    """The time in `user`'s own zone, the zone named (as the pages show it)."""
    from portal.templating import localtime

    return localtime(value, zone=user.time_zone or "UTC")


def _people_of(cohort_id: int, *, except_id: int | None) -> list[User]:
    """Everyone taking part in or running the cohort (one query)."""
    enrolled = db.select(Enrollment.user_id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value
    )
    running = db.select(CohortFacilitator.user_id).where(CohortFacilitator.cohort_id == cohort_id)
    query = db.select(User).where(User.deactivated_at.is_(None), User.id.in_(enrolled) | User.id.in_(running))
    if except_id is not None:
        query = query.where(User.id != except_id)
    return list(db.session.execute(query.order_by(User.id)).scalars())


def session_moved(session: CohortSession, before: datetime, by: User) -> int:
    """Tell everyone in the cohort (but the person who moved it) that a session moved.
    Returns how many people were told."""
    cohort = session.cohort
    people = _people_of(cohort.id, except_id=by.id)
    ics = external_url("cohorts.session_ics", session_id=session.id)
    page = url_for("cohorts.show", cohort_id=cohort.id, _anchor=f"session-{session.id}")
    for person in people:
        when = in_zone(session.starts_at, person)
        db.session.add(
            Notice(user_id=person.id, cohort_id=cohort.id, text=f"Week {session.week} moved to {when}.", link=page)
        )
        mail.send(
            person.email,
            f"{cohort.name}: week {session.week} moved to {when}",
            "mail/session_moved.txt",
            person=person,
            cohort=cohort,
            session=session,
            when=when,
            was=in_zone(before, person),
            by=by,
            ics=ics,
            link=external_url("cohorts.show", cohort_id=cohort.id),
        )
    return len(people)


def first_session(cohort: Cohort) -> CohortSession | None:
    return min(cohort.sessions, key=lambda s: s.starts_at, default=None)


def added_to_cohort(enrollment: Enrollment, person: User, by: User) -> None:
    """An existing account was put on a roster: tell the person (dashboard and mail)."""
    cohort = db.session.get(Cohort, enrollment.cohort_id)
    waiting = enrollment.status == EnrollmentStatus.WAITLISTED.value
    first = first_session(cohort)
    text = (
        f"{by.display_name} put you on the waitlist of {cohort.name}."
        if waiting
        else f"{by.display_name} added you to {cohort.name}"
        + (f"; the first session is {in_zone(first.starts_at, person)}." if first else ".")
    )
    db.session.add(
        Notice(user_id=person.id, cohort_id=cohort.id, text=text, link=url_for("cohorts.show", cohort_id=cohort.id))
    )
    mail.send(
        person.email,
        f"You are on the waitlist of {cohort.name}" if waiting else f"You are in {cohort.name}",
        "mail/added_to_cohort.txt",
        person=person,
        cohort=cohort,
        waiting=waiting,
        first=first,
        first_when=in_zone(first.starts_at, person) if first else None,
        by=by,
        link=external_url("dashboards.home"),
    )


def moved_up(enrollment: Enrollment) -> None:
    """A waitlisted trainee got a place (someone withdrew, or places were added): tell them,
    as the waitlist notice promised (dashboard and mail, in the caller's transaction)."""
    cohort = db.session.get(Cohort, enrollment.cohort_id)
    person = db.session.get(User, enrollment.user_id)
    if person is None or person.deactivated_at is not None:
        return
    first = first_session(cohort)
    first_when = in_zone(first.starts_at, person) if first else None
    db.session.add(
        Notice(
            user_id=person.id,
            cohort_id=cohort.id,
            text=f"A place opened in {cohort.name}: you are in."
            + (f" The first session is {first_when}." if first else ""),
            link=path_for("cohorts.show", cohort_id=cohort.id),
        )
    )
    mail.send(
        person.email,
        f"You are in {cohort.name}",
        "mail/moved_up.txt",
        person=person,
        cohort=cohort,
        first=first,
        first_when=first_when,
        link=external_url("dashboards.home"),
    )


def recent_notices(user_id: int, limit: int = 5) -> list:
    """The person's latest notices (every dashboard shows them)."""
    return read_rows(db.session, _recent_notices_statement(limit), {"uid": user_id}).all()


@functools.cache
def _recent_notices_statement(limit: int):
    return (
        db.select(Notice.text, Notice.link, Notice.created_at)
        .where(Notice.user_id == bindparam("uid", type_=Integer))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    )
