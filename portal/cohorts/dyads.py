"""Dyads in the database: pair a roster, swap two people, lock, repair after withdrawals.

A change of partners dissolves the affected dyads and forms new ones (see models.Dyad).
"""

from __future__ import annotations

import random

from sqlalchemy import func

from portal import audit
from portal.cohorts import pairing
from portal.cohorts.roster import RosterError, lock_cohort
from portal.extensions import db
from portal.models import Cohort, Dyad, DyadMember, Enrollment, EnrollmentStatus, User, utcnow


def active_dyads(cohort_id: int) -> list[Dyad]:
    return list(
        db.session.execute(
            db.select(Dyad)
            .where(Dyad.cohort_id == cohort_id, Dyad.dissolved_at.is_(None))
            .order_by(func.coalesce(Dyad.place, Dyad.id), Dyad.id)
        ).scalars()
    )


def _enrolled_people(cohort_id: int) -> list[pairing.Person]:
    rows = db.session.execute(
        db.select(User.id, User.organisation)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(
            Enrollment.cohort_id == cohort_id,
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
            User.deactivated_at.is_(None),  # a deactivated account keeps its place but needs no partner
        )
        .order_by(User.id)
    ).all()
    return [(r.id, r.organisation) for r in rows]


def _dissolve(dyad: Dyad, now) -> None:
    dyad.dissolved_at = now
    for member in dyad.members:
        if member.left_at is None:
            member.left_at = now


def _form(cohort_id: int, member_ids: list[int], now, place: int | None = None) -> Dyad:
    dyad = Dyad(cohort_id=cohort_id, created_at=now, place=place)
    dyad.members = [DyadMember(user_id=i, joined_at=now) for i in member_ids]
    db.session.add(dyad)
    db.session.flush()
    from portal.boards.posting import dyad_board  # boards: each pair has its private board

    dyad_board(dyad)
    return dyad


def _check_unlocked(cohort: Cohort) -> None:
    if cohort.dyads_locked_at is not None:
        raise RosterError("The pairs are locked. Unlock them first.")


def pair_cohort(cohort_id: int, keep_workplaces_apart: bool, by: User, rng: random.Random | None = None) -> list[Dyad]:
    cohort = lock_cohort(cohort_id)
    _check_unlocked(cohort)
    people = _enrolled_people(cohort.id)
    if len(people) < 2:
        raise RosterError("At least two enrolled trainees are needed to form pairs.")
    now = utcnow()
    for dyad in active_dyads(cohort.id):
        _dissolve(dyad, now)
    groups = pairing.pair(people, keep_workplaces_apart=keep_workplaces_apart, rng=rng)
    dyads = [_form(cohort.id, g, now, place) for place, g in enumerate(groups, start=1)]
    db.session.flush()
    audit.record(
        by, "dyads.paired", cohort, mode="workplaces apart" if keep_workplaces_apart else "random", groups=groups
    )
    return dyads


def swap(cohort_id: int, first_id: int, second_id: int, by: User) -> None:
    cohort = lock_cohort(cohort_id)
    _check_unlocked(cohort)
    if first_id == second_id:
        raise RosterError("Choose two different people to swap.")
    dyads = active_dyads(cohort.id)
    where = {m.user_id: d for d in dyads for m in d.current_members}
    if first_id not in where or second_id not in where:
        raise RosterError("Both people must be in a pair of this cohort.")
    a, b = where[first_id], where[second_id]
    if a.id == b.id:
        raise RosterError("Those two are already in the same pair.")
    a_ids = [second_id if m.user_id == first_id else m.user_id for m in a.current_members]
    b_ids = [first_id if m.user_id == second_id else m.user_id for m in b.current_members]
    now = utcnow()
    _dissolve(a, now)
    _dissolve(b, now)
    # The new pairs take the places of the two they replace: the list keeps its order.
    _form(cohort.id, a_ids, now, a.place if a.place is not None else a.id)
    _form(cohort.id, b_ids, now, b.place if b.place is not None else b.id)
    db.session.flush()
    audit.record(by, "dyads.swapped", cohort, first=first_id, second=second_id)


def repair_cohort(cohort_id: int, by: User) -> int:
    """Pair whoever is alone (after a withdrawal or a late enrolment), keeping other pairs.
    Returns how many new dyads were formed."""
    cohort = lock_cohort(cohort_id)
    dyads = active_dyads(cohort.id)
    groups = [[m.user_id for m in d.current_members] for d in dyads]
    kept, new = pairing.repair(groups, _enrolled_people(cohort.id))
    kept_sets = {frozenset(g) for g in kept}
    now = utcnow()
    for dyad in dyads:
        if frozenset(m.user_id for m in dyad.current_members) not in kept_sets:
            _dissolve(dyad, now)
    for group in new:
        _form(cohort.id, group, now)
    db.session.flush()
    if new:
        audit.record(by, "dyads.repaired", cohort, new_groups=new)
    return len(new)


def set_locked(cohort_id: int, locked: bool, by: User) -> None:
    cohort = lock_cohort(cohort_id)
    cohort.dyads_locked_at = utcnow() if locked else None
    audit.record(by, "dyads.locked" if locked else "dyads.unlocked", cohort)


def leave_dyads(cohort_id: int, user_id: int) -> None:
    """A withdrawn trainee leaves their dyad; the facilitator repairs the pairs after."""
    now = utcnow()
    for dyad in active_dyads(cohort_id):
        for member in dyad.current_members:
            if member.user_id == user_id:
                member.left_at = now


def dyad_of(cohort_id: int, user_id: int) -> Dyad | None:
    return db.session.execute(
        db.select(Dyad)
        .join(DyadMember, DyadMember.dyad_id == Dyad.id)
        .where(
            Dyad.cohort_id == cohort_id,
            Dyad.dissolved_at.is_(None),
            DyadMember.user_id == user_id,
            DyadMember.left_at.is_(None),
        )
    ).scalar_one_or_none()


def needs_repair(dyads: list[Dyad], enrolled_ids: set[int]) -> bool:
    placed = {m.user_id for d in dyads for m in d.current_members}
    return any(len(d.current_members) < 2 for d in dyads) or bool(dyads and enrolled_ids - placed)
