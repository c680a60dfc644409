"""What the cohort pages share: finding a cohort for an action, the cohort page's context,
and the answer after a change on it. Used by the cohort route modules (which never import
each other)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Integer, bindparam, func
from sqlalchemy.orm import aliased
from wtforms import SelectChoice

from portal.authz import can, require
from portal.cohorts import dyads as dyad_service
from portal.cohorts import handouts as handout_files
from portal.cohorts.curriculum import WEEKS
from portal.cohorts.forms import PAIR_MODES
from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    Dyad,
    DyadMember,
    Enrollment,
    EnrollmentStatus,
    Role,
    Supervision,
    User,
    UserRole,
    read_rows,
    utcnow,
)
from portal.people import people_with_role
from portal.web import get_or_404, render_page, wants_fragment


def cohort_for(cohort_id: int, action: str) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    require(action, cohort)
    return cohort


def facilitator_choices() -> list[SelectChoice]:
    """Active facilitators by name (the rule of people.people_with_role, read as rows)."""
    rows = read_rows(
        db.session,
        db.select(User.id, User.display_name, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.FACILITATOR.value, User.deactivated_at.is_(None))
        .order_by(User.display_name, User.id)
    )
    return [SelectChoice(uid, f"{name} ({email})") for uid, name, email in rows]


def facilitator_names(cohort_ids: list[int]) -> dict[int, list[str]]:
    """{cohort id: its facilitators' names, by name} for a list of cohorts, in one query."""
    names: dict[int, list[str]] = {}
    if cohort_ids:
        for cohort_id, name in read_rows(db.session, _facilitator_names_statement(), {"ids": cohort_ids}):
            names.setdefault(cohort_id, []).append(name)
    return {cohort_id: sorted(found) for cohort_id, found in names.items()}  # as Cohort.facilitators


@functools.cache
def _facilitator_names_statement():
    return (
        db.select(CohortFacilitator.cohort_id, User.display_name)
        .join(User, User.id == CohortFacilitator.user_id)
        .where(CohortFacilitator.cohort_id.in_(bindparam("ids", expanding=True)))
    )


@dataclass(frozen=True)
class ScheduleRow:
    """A session as the schedule shows it (cohorts/_session_row.html), read as a row."""

    id: int
    cohort_id: int
    week: int
    title: str
    starts_at: datetime
    duration_minutes: int
    meeting_url: str | None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@functools.cache
def _schedule_statement():
    s = CohortSession
    return (
        db.select(s.id, s.cohort_id, s.week, s.title, s.starts_at, s.duration_minutes, s.meeting_url)
        .where(s.cohort_id == _COHORT)
        .order_by(s.week)
    )


def schedule(cohort_id: int) -> list[ScheduleRow]:
    """The cohort's sessions in week order, as Cohort.sessions lists them."""
    return [ScheduleRow(*row) for row in read_rows(db.session, _schedule_statement(), {"cohort_id": cohort_id})]


def chosen_facilitators(ids: list[int]) -> list[User]:
    allowed = {u.id: u for u in people_with_role(Role.FACILITATOR)}
    return [allowed[i] for i in ids if i in allowed]


# The blocks of cohorts/show.html that htmx asks for alone (?part=...).
PARTS = ("roster", "dyads", "schedule")


def requested_block() -> str | None:
    """The block of the cohort page this request renders alone, or None for the whole page."""
    part = request.args.get("part")
    return part if part in PARTS and wants_fragment() else None


@dataclass
class PairMember:
    user_id: int
    display_name: str


@dataclass
class Pair:
    id: int
    current_members: list[PairMember] = field(default_factory=list)


def _pairs(cohort_id: int, *, with_member: int | None = None) -> list[Pair]:
    """The cohort's active dyads with their current members' names, in one query (only
    those `with_member` is in, when given)."""
    parameters = {"cohort_id": cohort_id} if with_member is None else {"cohort_id": cohort_id, "member": with_member}
    pairs: dict[int, Pair] = {}
    for dyad_id, user_id, name in read_rows(db.session, _pairs_statement(with_member is not None), parameters):
        pair = pairs.setdefault(dyad_id, Pair(dyad_id))
        if user_id is not None:
            pair.current_members.append(PairMember(user_id, name))
    return list(pairs.values())


@functools.cache
def _pairs_statement(of_member: bool):
    query = (
        db.select(Dyad.id, DyadMember.user_id, User.display_name)
        .outerjoin(DyadMember, (DyadMember.dyad_id == Dyad.id) & DyadMember.left_at.is_(None))
        .outerjoin(User, User.id == DyadMember.user_id)
        .where(Dyad.cohort_id == _COHORT, Dyad.dissolved_at.is_(None))
        .order_by(func.coalesce(Dyad.place, Dyad.id), Dyad.id, DyadMember.id)
    )
    if of_member:
        member = bindparam("member", type_=Integer)
        mine = db.select(DyadMember.dyad_id).where(DyadMember.user_id == member, DyadMember.left_at.is_(None))
        query = query.where(Dyad.id.in_(mine))
    return query




# The cohort page's statements are built once, the cohort as parameter `cohort_id`.
_COHORT = bindparam("cohort_id", type_=Integer)


@functools.cache
def _roster_statement():
    """The roster's rows, each with the name of the trainee's supervisor (a trainee has at
    most one open supervision: the database enforces it, so no row doubles)."""
    supervisor = aliased(User, name="supervisor")
    return (
        db.select(
            Enrollment.id,
            Enrollment.user_id,
            Enrollment.status,
            Enrollment.waitlisted_at,
            Enrollment.withdrawn_at,
            Enrollment.withdrawn_reason,
            User.display_name,
            User.pronouns,
            User.organisation,
            User.status_expression().label("account_status"),
            supervisor.display_name.label("supervisor_name"),
        )
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(Supervision, (Supervision.trainee_id == Enrollment.user_id) & Supervision.ended_at.is_(None))
        .outerjoin(supervisor, supervisor.id == Supervision.supervisor_id)
        .where(Enrollment.cohort_id == _COHORT)
        .order_by(Enrollment.status, Enrollment.waitlisted_at, User.display_name)
    )


@functools.cache
def _enrolled_statement():
    return db.select(Enrollment.user_id).where(
        Enrollment.cohort_id == _COHORT, Enrollment.status == EnrollmentStatus.ENROLLED.value
    )


def page_context(cohort: Cohort, block: str | None = None) -> dict:
    """Everything the cohort page shows, in a fixed number of queries whatever the roster
    size. The page only reads, so rows carry just the columns it shows. With `block` (the one
    block an htmx request renders; by default the request's ?part=), only what that block
    shows is loaded."""
    block = block or requested_block()
    wanted = lambda name: block is None or block == name  # noqa: E731
    manager = can(current_user, "manage_cohort", cohort)
    # A waitlisted trainee sees the dates and their place, nothing of the people taking part.
    taking_part = can(current_user, "take_part", cohort)
    enrollments = []
    if manager and wanted("roster"):
        enrollments = read_rows(db.session, _roster_statement(), {"cohort_id": cohort.id}).all()
    enrolled = [e for e in enrollments if e.status == EnrollmentStatus.ENROLLED.value]
    waitlisted = sorted(
        (e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED.value), key=lambda e: (e.waitlisted_at, e.id)
    )
    withdrawn = [e for e in enrollments if e.status == EnrollmentStatus.WITHDRAWN.value]
    attendance = {}
    if enrolled:  # hours toward the twelve per trainee: a fixed number of queries for the roster
        from portal.attendance import hours as attendance_hours

        attendance = attendance_hours.summaries(db.session, cohort.id, [e.user_id for e in enrolled])
    dyads = _pairs(cohort.id) if manager and wanted("dyads") else []
    dyads_need_repair = False
    if dyads:
        # Who is enrolled: from the roster when this request read it, else one small query.
        enrolled_ids = (
            {e.user_id for e in enrolled}
            if wanted("roster")
            else set(read_rows(db.session, _enrolled_statement(), {"cohort_id": cohort.id}).scalars())
        )
        dyads_need_repair = dyad_service.needs_repair(dyads, enrolled_ids)
    my_dyad = None
    if taking_part and not manager and block is None:
        my_dyad = next(iter(_pairs(cohort.id, with_member=current_user.id)), None)
    handouts = handout_files.by_week(cohort.id) if taking_part and wanted("schedule") else {}
    sessions = schedule(cohort.id) if wanted("schedule") else []
    # The swap form: everyone in a pair, each with who they are with now; the two selects
    # start on two people of different pairs.
    pair_of = {m.user_id: d for d in dyads for m in d.current_members}
    members = sorted(
        (
            (
                m.user_id,
                m.display_name
                + (
                    f" (with {' and '.join(o.display_name for o in others)})"
                    if (others := [o for o in d.current_members if o.user_id != m.user_id])
                    else " (no partner)"
                ),
            )
            for d in dyads
            for m in d.current_members
        ),
        key=lambda x: x[1],
    )
    swap_first = members[0][0] if members else None
    swap_second = next(
        (uid for uid, _ in members if pair_of[uid] is not pair_of.get(swap_first)), members[-1][0] if members else None
    )
    return {
        "cohort": cohort,
        "cohort_status": cohort.current_status(),
        "sessions": sessions,
        # The page's header (not in any block): the names in one query, not links then people.
        "facilitated_by": facilitator_names([cohort.id]).get(cohort.id, []) if block is None else [],
        "manager": manager,
        "taking_part": taking_part,
        "enrolled": enrolled,
        "waitlisted": waitlisted,
        "withdrawn": withdrawn,
        "attendance": attendance,
        "dyads": dyads,
        "dyads_need_repair": dyads_need_repair,
        "my_dyad": my_dyad,
        "handouts": handouts,
        "weeks": WEEKS,
        # The pairing and swap forms are written in the template: only choices and a token
        # (their routes validate with PairForm and SwapForm).
        "pair_modes": PAIR_MODES,
        "swap_choices": members,
        "swap_first": swap_first,
        "swap_second": swap_second,
        "now": utcnow(),
        "week_span": timedelta(days=7),
    }


def back_to(cohort: Cohort, block: str, anchor: str, **extra):
    """After a change on the cohort page: the refreshed block for htmx (its message next to
    the control, see web.say_here), else a 303 to the page at `anchor`, where the message is."""
    if wants_fragment():
        return render_page("cohorts/show.html", block, **{**page_context(cohort, block), **extra})
    return redirect(url_for("cohorts.show", cohort_id=cohort.id, _anchor=anchor), code=303)


def confirm_page(*, title: str, text: str, action: str, fields: dict, button: str, back: str, status: int = 200):
    """ "Are you sure?" without JavaScript: a page with one form that sends the same request
    again with confirm=yes, and a way back."""
    return render_page(
        "cohorts/confirm.html",
        None,
        status=status,
        title=title,
        text=text,
        action=action,
        fields={**fields, "confirm": "yes"},
        button=button,
        back=back,
    )
