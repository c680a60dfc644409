"""The authorization matrix: every route in app.url_map, for every principal, has an expected
outcome here, and every state-changing request carries a real body, so the action itself runs.
A route added without its row makes test_every_route_has_a_row fail.

The people and objects are the world of tests/world.py: "_in" principals are related to the
objects named in URLs (Cohort In, its sessions, handout, roster), "_out" ones hold the same roles
elsewhere (Cohort Out). Besides them: a waitlisted and a withdrawn trainee of Cohort In, a
deactivated account (enrolled in Cohort In, then deactivated, still holding a session cookie), a
co-facilitator of Cohort In, and dual_role (a trainee of Cohort In who also supervises
trainee_out), who must get the union of both roles' rights and no more.

Outcomes:
  "ok"      served (2xx or a redirect that is not to the sign-in page); for a state-changing
            row the row's `effect` must hold afterwards: the change happened in the database
  "noop"    served, and nothing changed in the database (signing in when already signed in)
  "login"   sent to sign in, nothing changed
  "deny"    403, nothing changed
  "missing" 404, nothing changed
"Nothing changed" compares a row-level snapshot of every table before and after the request
(tests/world.py: snapshot). Whatever the outcome, Cohort Out's rows never change: every request
targets Cohort In or no cohort at all. A row's `probes` send bodies that carry ids of Cohort
Out's objects (or of accounts whose roles only an admin may change) to the same URL, as each
allowed principal, and check that Cohort Out stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from portal.extensions import db, limiter
from portal.models import (  # --- attendance: AttendanceSettings, CheckinWindow, MakeupRequest
    AttendanceSettings,
    BoardConsent,
    BoardSuspension,
    BoardText,
    BoardTopic,
    CalendarFeed,
    CheckinWindow,
    Cohort,
    CohortSession,
    Dyad,
    DyadMember,
    Enrollment,
    Handout,
    Invitation,
    MakeupRequest,
    PasswordReset,
    Post,
    PostReport,
    Supervision,
    Thread,
    User,
    UserSession,
)
from tests.factories import DEFAULT_PASSWORD, AuthActions, password_hash
from tests.world import PRINCIPALS, World, columns, snapshot

NEW_PASSWORD = "a new lantern by the harbour"  # noqa: S105 - test accounts only

# --- who ---------------------------------------------------------------------------------------

SIGNED_OUT = ("anonymous", "deactivated")  # a deactivated account's session is refused
TRAINEES = ("trainee_in", "trainee_waitlisted", "trainee_withdrawn", "trainee_out", "dual_role")
FACILITATORS = ("facilitator_in", "co_facilitator", "facilitator_out")
SUPERVISORS = ("supervisor_in", "supervisor_out", "dual_role")
RUN_IN = ("facilitator_in", "co_facilitator")  # run Cohort In
TAKE_PART_IN = ("trainee_in", "dual_role")  # enrolled in Cohort In, on an active account
# A waitlisted trainee sees the cohort's page (that they wait, and the dates), nothing more.
SEE_IN = (*TAKE_PART_IN, "trainee_waitlisted")


def everyone(outcome="ok"):
    return dict.fromkeys(PRINCIPALS, outcome)


def signed_in(outcome="ok"):
    return {**everyone(outcome), **dict.fromkeys(SIGNED_OUT, "login")}


def only(*allowed):
    table = {p: "deny" for p in PRINCIPALS}
    table.update(dict.fromkeys(SIGNED_OUT, "login"))
    for p in allowed:
        table[p] = "ok"
    return table


# --- reading the database ------------------------------------------------------------------------


def one(w: World, statement):
    with w.app.app_context():
        return db.session.execute(statement).scalar_one_or_none()


def all_of(w: World, statement) -> list:
    with w.app.app_context():
        return list(db.session.execute(statement).scalars())


def user_row(w: World, user_id: int) -> User:
    with w.app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def roles_of(w: World, user_id: int) -> set[str]:
    with w.app.app_context():
        return {r.value for r in db.session.get(User, user_id).roles}


def enrollment_status(w: World, cohort_id: int, user_id: int) -> str | None:
    return one(w, db.select(Enrollment.status).where(Enrollment.cohort_id == cohort_id, Enrollment.user_id == user_id))


def partners(w: World, cohort_id: int, user_id: int) -> set[int] | None:
    """The current members of the person's active dyad in the cohort (themselves included)."""
    dyad_id = one(
        w,
        db.select(Dyad.id)
        .join(DyadMember, DyadMember.dyad_id == Dyad.id)
        .where(
            Dyad.cohort_id == cohort_id,
            Dyad.dissolved_at.is_(None),
            DyadMember.user_id == user_id,
            DyadMember.left_at.is_(None),
        ),
    )
    if dyad_id is None:
        return None
    return set(
        all_of(w, db.select(DyadMember.user_id).where(DyadMember.dyad_id == dyad_id, DyadMember.left_at.is_(None)))
    )


# --- rows --------------------------------------------------------------------------------------


@dataclass
class Act:
    """One request of the matrix: who sent it, and the database before and after."""

    principal: str
    user_id: int | None
    session_hash: str | None
    before: dict
    after: dict


@dataclass(frozen=True)
class Probe:
    """Another body for the same URL, sent by each principal the row allows. Cohort Out must
    not change; `check` may add a rule (it returns a problem, or None)."""

    name: str
    body: Callable[[World], dict]
    url: Callable[[World], dict] = lambda w: {}
    check: Callable[[World, Act], str | None] = lambda w, act: None


@dataclass
class Row:
    outcomes: dict[str, str]
    body: Callable[[World], dict] = lambda w: {}
    effect: Callable[[World, Act], bool] | None = None
    url: Callable[[World], dict] = lambda w: {}
    probes: tuple[Probe, ...] = field(default_factory=tuple)


def roles_unchanged_unless_admin(w: World, act: Act) -> str | None:
    if act.principal == "admin":
        return None
    if act.before["user_roles"] != act.after["user_roles"]:
        return "changed someone's roles (only admins change roles)"
    return None


def dyads_unchanged(w: World, act: Act) -> str | None:
    for table in ("dyads", "dyad_members"):
        if act.before[table] != act.after[table]:
            return f"changed {table}"
    return None


def handouts_unchanged_unless_admin(w: World, act: Act) -> str | None:
    if act.principal != "admin" and act.before["handouts"] != act.after["handouts"]:
        return "added a programme handout (only admins add handouts to every cohort)"
    return None


def open_sessions(w: World, user_id: int) -> int:
    return len(
        all_of(w, db.select(UserSession.id).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None)))
    )


def new_dyads_only(w: World) -> bool:
    """Cohort In's pairs were formed again: none of the world's dyads is still active, and
    every enrolled trainee of the cohort on an active account is in a pair (a deactivated
    account keeps its place but gets no partner)."""
    active = set(all_of(w, db.select(Dyad.id).where(Dyad.cohort_id == w.cohort.id, Dyad.dissolved_at.is_(None))))
    placed = set(
        all_of(w, db.select(DyadMember.user_id).where(DyadMember.dyad_id.in_(active), DyadMember.left_at.is_(None)))
    )
    enrolled = set(
        all_of(
            w,
            db.select(Enrollment.user_id)
            .join(User, User.id == Enrollment.user_id)
            .where(Enrollment.cohort_id == w.cohort.id, Enrollment.status == "enrolled", User.deactivated_at.is_(None)),
        )
    )
    return bool(active) and not (active & w.dyads_in) and enrolled <= placed


# --- boards: who reads Cohort In's board, who moderates it ---
BOARD_IN = {
    **{p: "missing" for p in PRINCIPALS},
    **dict.fromkeys(SIGNED_OUT, "login"),
    **dict.fromkeys((*TAKE_PART_IN, *RUN_IN, "admin"), "ok"),
}
MODERATE_IN = {**BOARD_IN, **dict.fromkeys(TAKE_PART_IN, "deny")}


def boards_out_unchanged(w: World, act: Act) -> str | None:
    """Nothing on Cohort Out's board (its threads, posts, reports, suspensions) changed (admins
    read and moderate every cohort board, so for them the ids of Cohort Out are fair)."""
    if act.principal == "admin":
        return None
    for table in ("board_threads", "board_posts", "board_reports", "board_suspensions"):
        names = columns(table)
        at = names.index("board_id")
        before = {r for r in act.before[table] if r[at] == w.board_out}
        after = {r for r in act.after[table] if r[at] == w.board_out}
        if before != after:
            return f"changed {table} of Cohort Out's board"
    return None


# --- boards: topics --- the community board: admins, facilitators and everyone enrolled read it.
COMMUNITY_READERS = ("trainee_in", "trainee_out", "dual_role", *FACILITATORS, "admin")
TOPICS_ADMIN = {
    **{p: "missing" for p in PRINCIPALS},
    **dict.fromkeys(SIGNED_OUT, "login"),
    **dict.fromkeys(COMMUNITY_READERS, "deny"),
    "admin": "ok",
}


def _no_topic_off_the_community_board(w: World, act: Act) -> str | None:
    if one(w, db.select(BoardTopic.board_id).where(BoardTopic.board_id != w.community).limit(1)) is not None:
        return "a topic was made on a board that is not the community board"
    return None


P = lambda w, key: w.people[key]  # noqa: E731

# (endpoint, method) -> Row
MATRIX: dict[tuple[str, str], Row] = {
    ("static", "GET"): Row(everyone()),
    ("main.index", "GET"): Row(everyone()),
    ("main.healthz", "GET"): Row(everyone()),
    # --- signing in and out ---
    ("auth.login", "GET"): Row(everyone()),
    ("auth.login", "POST"): Row(
        {**everyone("noop"), **dict.fromkeys(SIGNED_OUT, "ok")},  # signed in already: just sent on
        body=lambda w: {"email": w.spare.email, "password": DEFAULT_PASSWORD},
        effect=lambda w, act: open_sessions(w, w.spare.id) == 1,
    ),
    ("auth.logout", "POST"): Row(
        {**everyone("ok"), **dict.fromkeys(SIGNED_OUT, "noop")},
        effect=lambda w, act: (
            one(w, db.select(UserSession.ended_at).where(UserSession.token_hash == act.session_hash)) is not None
        ),
    ),
    ("auth.forgot_password", "GET"): Row(everyone()),
    ("auth.forgot_password", "POST"): Row(
        everyone(),
        body=lambda w: {"email": w.spare.email},
        effect=lambda w, act: (
            len(all_of(w, db.select(PasswordReset.id).where(PasswordReset.user_id == w.spare.id))) == 2
        ),
    ),
    # Links mailed to people: the token is the credential, whoever follows it.
    ("auth.reset_password", "GET"): Row(everyone(), url=lambda w: {"token": w.reset_token}),
    ("auth.reset_password", "POST"): Row(
        everyone(),
        url=lambda w: {"token": w.reset_token},
        body=lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        effect=lambda w, act: user_row(w, w.spare.id).password_hash != password_hash(DEFAULT_PASSWORD),
    ),
    ("auth.accept_invitation", "GET"): Row(everyone(), url=lambda w: {"token": w.invite_token}),
    ("auth.accept_invitation", "POST"): Row(
        everyone(),
        url=lambda w: {"token": w.invite_token},
        body=lambda w: {
            "display_name": "Tara Target",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "time_zone": "America/Chicago",
        },
        effect=lambda w, act: (u := user_row(w, w.target.id)).status == "active" and u.time_zone == "America/Chicago",
    ),
    # --- one's own account ---
    ("account.profile", "GET"): Row(signed_in()),
    ("account.profile", "POST"): Row(
        signed_in(),
        body=lambda w: {
            "display_name": "Renamed Person",
            "pronouns": "they/them",
            "time_zone": "Europe/Paris",
            "phone": "+1 555 0100",
            "organisation": "New Org",
        },
        effect=lambda w, act: (
            (u := user_row(w, act.user_id)).display_name == "Renamed Person" and u.time_zone == "Europe/Paris"
        ),
    ),
    ("account.password", "GET"): Row(signed_in()),
    ("account.password", "POST"): Row(
        signed_in(),
        body=lambda w: {"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        effect=lambda w, act: user_row(w, act.user_id).password_hash != password_hash(DEFAULT_PASSWORD),
    ),
    ("calendar.page", "GET"): Row(signed_in()),
    ("calendar.new_link", "POST"): Row(
        signed_in(),
        effect=lambda w, act: (
            one(w, db.select(CalendarFeed.token).where(CalendarFeed.user_id == act.user_id))
            not in (None, w.feeds.get(act.principal))
        ),
    ),
    # A calendar feed is reached by its secret address alone (a wrong one: test below).
    ("calendar.feed", "GET"): Row(everyone(), url=lambda w: {"token": w.feeds["trainee_in"]}),
    # --- dashboards ---
    ("dashboards.home", "GET"): Row(signed_in()),
    ("dashboards.admin", "GET"): Row(only("admin")),
    ("dashboards.facilitator", "GET"): Row(only(*FACILITATORS)),
    ("dashboards.supervisor", "GET"): Row(only(*SUPERVISORS)),
    ("dashboards.trainee", "GET"): Row(only(*TRAINEES)),
    # --- admins only: accounts and roles ---
    ("admin.users", "GET"): Row(only("admin")),
    ("admin.user", "GET"): Row(only("admin")),
    ("admin.change_roles", "POST"): Row(
        only("admin"),
        body=lambda w: {"roles": ["trainee", "supervisor"]},
        effect=lambda w, act: roles_of(w, w.target.id) == {"trainee", "supervisor"},
    ),
    ("admin.deactivate", "POST"): Row(
        only("admin"),
        url=lambda w: {"user_id": w.spare.id},
        body=lambda w: {"reason": "Left the service"},
        effect=lambda w, act: user_row(w, w.spare.id).deactivated_at is not None and open_sessions(w, w.spare.id) == 0,
    ),
    ("admin.reactivate", "POST"): Row(
        only("admin"),
        url=lambda w: {"user_id": w.people["deactivated"].id},
        effect=lambda w, act: user_row(w, w.people["deactivated"].id).deactivated_at is None,
    ),
    ("admin.resend_invitation", "POST"): Row(
        only("admin"),
        effect=lambda w, act: len(all_of(w, db.select(Invitation.id).where(Invitation.user_id == w.target.id))) == 2,
    ),
    ("admin.invite", "GET"): Row(only("admin")),
    ("admin.invite", "POST"): Row(
        only("admin"),
        body=lambda w: {"email": "new.facilitator@example.org", "display_name": "Nell New", "roles": ["facilitator"]},
        effect=lambda w, act: (
            (uid := one(w, db.select(User.id).where(User.email == "new.facilitator@example.org"))) is not None
            and roles_of(w, uid) == {"facilitator"}
        ),
    ),
    ("admin.audit_log", "GET"): Row(only("admin")),
    # --- cohorts ---
    ("cohorts.index", "GET"): Row(only(*FACILITATORS, "admin")),
    ("cohorts.create", "GET"): Row(only("admin")),
    ("cohorts.create", "POST"): Row(
        only("admin"),
        body=lambda w: {
            "name": "Cohort New",
            "facilitators": [P(w, "facilitator_out").id],
            "first_day": "2027-09-06",
            "start_time": "18:00",
            "time_zone": "America/New_York",
            "meeting_url": "https://video.example.org/new-room",
            "capacity": "10",
            "notes": "",
            "status": "draft",
        },
        effect=lambda w, act: (
            (cid := one(w, db.select(Cohort.id).where(Cohort.name == "Cohort New"))) is not None
            and len(all_of(w, db.select(CohortSession.id).where(CohortSession.cohort_id == cid))) == 6
        ),
    ),
    ("cohorts.show", "GET"): Row(only(*SEE_IN, *RUN_IN, "admin")),
    ("cohorts.settings", "GET"): Row(only("admin")),
    ("cohorts.settings", "POST"): Row(
        only("admin"),
        body=lambda w: {
            "name": "Cohort In renamed",
            "facilitators": [P(w, "facilitator_in").id, P(w, "co_facilitator").id],
            "meeting_url": "https://video.example.org/cohort-in-new-room",
            "capacity": "6",
            "notes": "Bring headphones",
            "status": "enrolling",
        },
        effect=lambda w, act: (
            (c := one(w, db.select(Cohort).where(Cohort.id == w.cohort.id))).name == "Cohort In renamed"
            and c.capacity == 6
            and enrollment_status(w, w.cohort.id, P(w, "trainee_waitlisted").id) == "enrolled"
        ),
    ),
    # The session page carries the meeting link: only the people taking part, and who runs it.
    ("cohorts.session", "GET"): Row(only(*TAKE_PART_IN, *RUN_IN, "admin")),
    ("cohorts.session_ics", "GET"): Row(only(*TAKE_PART_IN, *RUN_IN, "admin")),
    ("cohorts.edit_session", "GET"): Row(only(*RUN_IN, "admin")),
    ("cohorts.edit_session", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {
            "day": "2027-03-01",
            "start_time": "19:30",
            "meeting_url": "https://video.example.org/week-one",
            "confirm": "yes",
        },
        effect=lambda w, act: (
            (s := one(w, db.select(CohortSession).where(CohortSession.id == w.cohort.session_ids[0]))).meeting_url
            == "https://video.example.org/week-one"
            and s.sequence == 1
            and (s.starts_at.hour, s.starts_at.minute) == (0, 30)  # 19:30 EST is 00:30 UTC
        ),
    ),
    ("cohorts.roster_add", "GET"): Row(only(*RUN_IN, "admin")),
    ("cohorts.roster_add", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"user_ids": [w.spare.id]},
        effect=lambda w, act: enrollment_status(w, w.cohort.id, w.spare.id) == "waitlisted",  # the cohort is full
        probes=(
            Probe(
                "user ids of Cohort Out's trainees",
                body=lambda w: {"user_ids": [P(w, "trainee_out").id, w.peers_out[1].id]},
            ),
        ),
    ),
    ("cohorts.roster_invite", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"people": "Nina New, nina.new@example.org"},
        effect=lambda w, act: (
            (uid := one(w, db.select(User.id).where(User.email == "nina.new@example.org"))) is not None
            and enrollment_status(w, w.cohort.id, uid) == "waitlisted"
        ),
        probes=(
            Probe(
                "emails of Cohort Out's trainees",
                body=lambda w: {"people": f"{P(w, 'trainee_out').email}\n{w.peers_out[1].email}"},
            ),
            Probe(
                "the email of an existing account that is not a trainee",
                body=lambda w: {"people": P(w, "supervisor_out").email},
                check=roles_unchanged_unless_admin,
            ),
        ),
    ),
    ("cohorts.enrollment", "GET"): Row(only(*RUN_IN, "admin")),
    ("cohorts.withdraw", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"reason": "Changed jobs"},
        effect=lambda w, act: (
            enrollment_status(w, w.cohort.id, P(w, "trainee_in").id) == "withdrawn"
            and enrollment_status(w, w.cohort.id, P(w, "trainee_waitlisted").id) == "enrolled"
        ),
        probes=(
            Probe(
                "Cohort Out's enrolment under Cohort In's address",
                body=lambda w: {"reason": "Changed jobs"},
                url=lambda w: {"enrollment_id": w.other_enrollments[P(w, "trainee_out").id]},
            ),
        ),
    ),
    ("cohorts.set_supervisor", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"supervisor_id": str(P(w, "supervisor_out").id), "email": "", "name": ""},
        effect=lambda w, act: (
            one(
                w,
                db.select(Supervision.supervisor_id).where(
                    Supervision.trainee_id == P(w, "trainee_in").id, Supervision.ended_at.is_(None)
                ),
            )
            == P(w, "supervisor_out").id
        ),
        probes=(
            Probe(
                "the user id of Cohort Out's trainee as supervisor",
                body=lambda w: {"supervisor_id": str(P(w, "trainee_out").id), "email": "", "name": ""},
                check=roles_unchanged_unless_admin,
            ),
            Probe(
                "the email of an existing account that is not a supervisor",
                body=lambda w: {"supervisor_id": "0", "email": w.spare.email, "name": ""},
                check=roles_unchanged_unless_admin,
            ),
            Probe(
                "Cohort Out's enrolment under Cohort In's address",
                body=lambda w: {"supervisor_id": str(P(w, "supervisor_in").id), "email": "", "name": ""},
                url=lambda w: {"enrollment_id": w.other_enrollments[P(w, "trainee_out").id]},
            ),
        ),
    ),
    # --- practice pairs ---
    ("cohorts.pair", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"mode": "random", "confirm": "yes"},  # the world has pairs: pairing again asks first
        effect=lambda w, act: new_dyads_only(w),
    ),
    ("cohorts.swap", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"first": str(P(w, "trainee_in").id), "second": str(P(w, "dual_role").id)},
        effect=lambda w, act: (
            partners(w, w.cohort.id, P(w, "trainee_in").id) == {P(w, "trainee_in").id, P(w, "deactivated").id}
        ),
        probes=(
            Probe(
                "user ids of Cohort Out's trainees (in two of its pairs)",
                body=lambda w: {"first": str(P(w, "trainee_out").id), "second": str(w.peers_out[1].id)},
                check=dyads_unchanged,
            ),
            Probe(
                "one person of each cohort",
                body=lambda w: {"first": str(P(w, "trainee_in").id), "second": str(P(w, "trainee_out").id)},
                check=dyads_unchanged,
            ),
        ),
    ),
    ("cohorts.lock_dyads", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"locked": "yes"},
        effect=lambda w, act: one(w, db.select(Cohort.dyads_locked_at).where(Cohort.id == w.cohort.id)) is not None,
    ),
    ("cohorts.repair_dyads", "POST"): Row(
        only(*RUN_IN, "admin"),
        effect=lambda w, act: len(partners(w, w.cohort.id, w.peers_in[1].id) or ()) >= 2,
    ),
    # --- handouts: the files belong to the people taking part ---
    ("cohorts.new_handout", "GET"): Row(only(*RUN_IN, "admin")),
    ("cohorts.add_handout", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {
            "week": "2",
            "title": "Extra reading",
            "link_url": "https://example.org/reading",
            "scope": "cohort",
        },
        effect=lambda w, act: (
            one(w, db.select(Handout.cohort_id).where(Handout.title == "Extra reading", Handout.removed_at.is_(None)))
            == w.cohort.id
        ),
        probes=(
            Probe(
                "a handout for every cohort",
                body=lambda w: {
                    "week": "2",
                    "title": "For everyone",
                    "link_url": "https://example.org/everyone",
                    "scope": "programme",
                },
                check=handouts_unchanged_unless_admin,
            ),
        ),
    ),
    ("cohorts.handout", "GET"): Row(only(*TAKE_PART_IN, *RUN_IN, "admin")),
    # --- cohorts ux ---
    ("dashboards.progress", "GET"): Row(
        only("admin", "trainee_in", "supervisor_in", *RUN_IN), url=lambda w: {"user_id": P(w, "trainee_in").id}
    ),
    ("cohorts.invite_again", "POST"): Row(
        only(*RUN_IN, "admin"),
        url=lambda w: {"enrollment_id": w.enrollments[w.invitee_in.id]},
        effect=lambda w, act: (
            len(all_of(w, db.select(Invitation.id).where(Invitation.user_id == w.invitee_in.id))) == 1
        ),
        probes=(
            Probe(
                "Cohort Out's enrolment under Cohort In's address",
                body=lambda w: {},
                url=lambda w: {"enrollment_id": w.other_enrollments[P(w, "trainee_out").id]},
            ),
        ),
    ),
    ("cohorts.remove_handout", "POST"): Row(
        only(*RUN_IN, "admin"),
        body=lambda w: {"cohort_id": str(w.cohort.id), "confirm": "yes"},
        effect=lambda w, act: one(w, db.select(Handout.removed_at).where(Handout.id == w.handout_id)) is not None,
        probes=(Probe("cohort_id of Cohort Out", body=lambda w: {"cohort_id": str(w.other.id), "confirm": "yes"}),),
    ),
    # --- boards ---
    # Cohort In's board: its enrolled trainees (trainee_in, dual_role), its facilitators and
    # admins. Others get 404: another cohort's board, thread or post does not exist for them.
    ("boards.index", "GET"): Row(
        {**only(*TRAINEES, *FACILITATORS, "admin"), "supervisor_in": "deny", "supervisor_out": "deny"}
    ),
    ("boards.board", "GET"): Row(BOARD_IN),
    ("boards.thread", "GET"): Row(BOARD_IN),
    ("boards.new_replies", "GET"): Row(BOARD_IN),
    ("boards.new_thread", "GET"): Row(BOARD_IN),
    ("boards.new_thread", "POST"): Row(
        BOARD_IN,
        body=lambda w: {"title": "Matrix thread", "body": "Hello from the matrix."},
        effect=lambda w, act: one(w, db.select(Thread.board_id).where(Thread.title == "Matrix thread")) == w.board_in,
        probes=(
            Probe(  # --- boards: topics --- a topic of another board is no choice here
                "the community board's topic",
                body=lambda w: {"title": "Matrix thread", "body": "Hi.", "topic_id": str(w.boards_topic_id)},
                check=lambda w, act: (
                    "filed a thread under another board's topic"
                    if one(w, db.select(Thread.id).where(Thread.board_id == w.board_in, Thread.topic_id.is_not(None)))
                    else None
                ),
            ),
        ),
    ),
    ("boards.reply", "POST"): Row(
        BOARD_IN,
        body=lambda w: {"body": "A matrix reply.", "seen": "0"},
        effect=lambda w, act: one(w, db.select(Post.thread_id).where(Post.body == "A matrix reply.")) == w.thread_id,
        probes=(
            Probe(
                "thread of Cohort Out",
                url=lambda w: {"thread_id": w.other_thread_id},
                body=lambda w: {"body": "A matrix reply.", "seen": "0"},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.edit_post", "GET"): Row({**BOARD_IN, "dual_role": "deny", **dict.fromkeys((*RUN_IN, "admin"), "deny")}),
    ("boards.edit_post", "POST"): Row(
        {**BOARD_IN, "dual_role": "deny", **dict.fromkeys((*RUN_IN, "admin"), "deny")},
        body=lambda w: {"body": "Edited in the matrix."},
        effect=lambda w, act: one(w, db.select(Post.body).where(Post.id == w.post_id)) == "Edited in the matrix.",
        probes=(
            Probe(
                "post of Cohort Out",
                url=lambda w: {"post_id": w.other_post_id},
                body=lambda w: {"body": "Edited in the matrix."},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.remove_post", "POST"): Row(
        {**BOARD_IN, "dual_role": "deny", **dict.fromkeys((*RUN_IN, "admin"), "deny")},
        effect=lambda w, act: one(w, db.select(Post.removed_at).where(Post.id == w.post_id)) is not None,
        probes=(
            Probe(
                "post of Cohort Out",
                url=lambda w: {"post_id": w.other_post_id},
                body=lambda w: {},
                check=boards_out_unchanged,
            ),
        ),
    ),
    # trainee_in wrote the post: everyone else who reads the board may report it.
    ("boards.report_post", "POST"): Row(
        {**BOARD_IN, "trainee_in": "deny"},
        body=lambda w: {"reason": "Matrix report"},
        effect=lambda w, act: (
            one(
                w,
                db.select(PostReport.id).where(PostReport.post_id == w.post_id, PostReport.reporter_id == act.user_id),
            )
            is not None
        ),
        probes=(
            Probe(
                "post of Cohort Out",
                url=lambda w: {"post_id": w.other_post_id},
                body=lambda w: {"reason": "Matrix report"},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.hide_post", "POST"): Row(
        MODERATE_IN,
        body=lambda w: {"reason": "Matrix hide"},
        effect=lambda w, act: one(w, db.select(Post.hidden_reason).where(Post.id == w.post_id)) == "Matrix hide",
        probes=(
            Probe(
                "post of Cohort Out",
                url=lambda w: {"post_id": w.other_post_id},
                body=lambda w: {"reason": "Matrix hide"},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.moderate_post", "POST"): Row(
        MODERATE_IN,
        url=lambda w: {"post_id": w.peer_post_id},
        body=lambda w: {"action": "dismiss"},
        effect=lambda w, act: (
            one(w, db.select(PostReport.resolved_at).where(PostReport.post_id == w.peer_post_id)) is not None
        ),
        probes=(
            Probe(
                "post of Cohort Out",
                url=lambda w: {"post_id": w.other_post_id},
                body=lambda w: {"action": "dismiss"},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.moderate_thread", "POST"): Row(
        MODERATE_IN,
        body=lambda w: {"action": "lock"},
        effect=lambda w, act: one(w, db.select(Thread.locked_at).where(Thread.id == w.thread_id)) is not None,
        probes=(
            Probe(
                "thread of Cohort Out",
                url=lambda w: {"thread_id": w.other_thread_id},
                body=lambda w: {"action": "lock"},
                check=boards_out_unchanged,
            ),
        ),
    ),
    # A community thread moves to a cohort's board when everyone who wrote in it reads that
    # board (Fran wrote the world's): only admins moderate the community board. A cohort's
    # threads never move (see test_boards), so no probe moves one to Cohort Out's board.
    ("boards.move_thread", "POST"): Row(
        TOPICS_ADMIN,  # the community board's moderators: admins (others who read it are refused)
        url=lambda w: {"thread_id": w.community_thread_id},
        body=lambda w: {"board_id": str(w.board_in)},
        effect=lambda w, act: one(w, db.select(Thread.board_id).where(Thread.id == w.community_thread_id))
        == w.board_in,
        probes=(
            Probe("to Cohort Out's board", body=lambda w: {"board_id": str(w.board_out)}, check=boards_out_unchanged),
        ),
    ),
    ("boards.suspend", "POST"): Row(
        MODERATE_IN,
        body=lambda w: {"user_id": str(w.peers_in[0].id), "days": "7", "reason": "Matrix pause"},
        effect=lambda w, act: (
            one(
                w,
                db.select(BoardSuspension.user_id).where(
                    BoardSuspension.board_id == w.board_in, BoardSuspension.reason == "Matrix pause"
                ),
            )
            == w.peers_in[0].id
        ),
        probes=(
            Probe(
                "a trainee of Cohort Out",
                body=lambda w: {"user_id": str(w.people["trainee_out"].id), "days": "7", "reason": "Matrix pause"},
                check=lambda w, act: (
                    "suspended someone who does not read the board"
                    if act.before["board_suspensions"] != act.after["board_suspensions"]
                    else None
                ),
            ),
        ),
    ),
    ("boards.lift_suspension", "POST"): Row(
        MODERATE_IN,
        effect=lambda w, act: one(
            w, db.select(BoardSuspension.lifted_at).where(BoardSuspension.id == w.suspension_in)
        )
        is not None,
        probes=(
            Probe(
                "a suspension on Cohort Out's board",
                url=lambda w: {"suspension_id": w.suspension_out},
                body=lambda w: {},
                check=boards_out_unchanged,
            ),
        ),
    ),
    ("boards.moderation", "GET"): Row(only(*FACILITATORS, "admin")),
    ("boards.guidelines", "GET"): Row(
        {**only(*TRAINEES, *FACILITATORS, "admin"), "supervisor_in": "deny", "supervisor_out": "deny"}
    ),
    ("boards.guidelines", "POST"): Row(
        {**only(*TRAINEES, *FACILITATORS, "admin"), "supervisor_in": "deny", "supervisor_out": "deny"},
        body=lambda w: {"accept": "y"},
        effect=lambda w, act: (
            one(w, db.select(BoardConsent.id).where(BoardConsent.user_id == act.user_id).limit(1)) is not None
        ),
    ),
    ("boards.settings", "GET"): Row(only("admin")),
    ("boards.settings", "POST"): Row(
        only("admin"),
        body=lambda w: {
            "guidelines": "Be kind.",
            "consent": "Who reads.",
            "crisis_resources": "Call 988.",
            "crisis_phrases": "want to die",
        },
        effect=lambda w, act: (
            one(w, db.select(BoardText.value).where(BoardText.key == "crisis_resources")) == "Call 988."
        ),
    ),
    # --- boards: topics of the community board --- admins manage them; whoever else reads the
    # community board is refused (403), people who do not read it never learn it exists (404).
    ("boards.topics_page", "GET"): Row(TOPICS_ADMIN, url=lambda w: {"board_id": w.community}),
    ("boards.topics_page", "POST"): Row(
        TOPICS_ADMIN,
        url=lambda w: {"board_id": w.community},
        body=lambda w: {"name": "Matrix topic"},
        effect=lambda w, act: one(w, db.select(BoardTopic.board_id).where(BoardTopic.name == "Matrix topic"))
        == w.community,
        probes=(
            Probe(
                "Cohort Out's board (topics are the community board's)",
                url=lambda w: {"board_id": w.board_out},
                body=lambda w: {"name": "Matrix topic"},
                check=_no_topic_off_the_community_board,
            ),
        ),
    ),
    ("boards.rename_topic", "POST"): Row(
        TOPICS_ADMIN,
        body=lambda w: {"name": "Matrix renamed"},
        effect=lambda w, act: one(w, db.select(BoardTopic.name).where(BoardTopic.id == w.boards_topic_id))
        == "Matrix renamed",
    ),
    ("boards.topic_state", "POST"): Row(
        TOPICS_ADMIN,
        body=lambda w: {"action": "retire"},
        effect=lambda w, act: one(w, db.select(BoardTopic.retired_at).where(BoardTopic.id == w.boards_topic_id))
        is not None,
    ),
    ("boards.file_thread", "POST"): Row(
        TOPICS_ADMIN,
        url=lambda w: {"thread_id": w.community_thread_id},
        body=lambda w: {"topic_id": str(w.boards_topic_id)},
        effect=lambda w, act: one(w, db.select(Thread.topic_id).where(Thread.id == w.community_thread_id))
        == w.boards_topic_id,
        probes=(
            Probe(
                "thread of Cohort Out, the community board's topic",
                url=lambda w: {"thread_id": w.other_thread_id},
                body=lambda w: {"topic_id": str(w.boards_topic_id)},
                check=boards_out_unchanged,
            ),
        ),
    ),
}

# --- attendance ---------------------------------------------------------------------------------------
# tests/world.py (World._attendance): week 6 of both cohorts is live with check-in open; Cohort
# In's week 5 has ended (trainee_in and dual_role present); request_id is trainee_out's pending
# make-up for Cohort In's week 6, other_request_id trainee_in's for Cohort Out's week 5.


def _attendance_rows(w: World, session_id: int):
    from portal.models import Attendance

    with w.app.app_context():
        return {
            (a.user_id, a.status, a.minutes, a.source)
            for a in db.session.execute(db.select(Attendance).where(Attendance.session_id == session_id)).scalars()
        }


def _status_of(w: World, session_id: int, user_id: int):
    from portal.models import Attendance

    return one(w, db.select(Attendance.status).where(Attendance.session_id == session_id, Attendance.user_id == user_id))


def _other_live_unchanged(w: World, act: Act) -> str | None:
    if _attendance_rows(w, w.other_live_session_id):
        return "a check-in landed on Cohort Out's session"
    return None


def _only_own_checkin(w: World, act: Act) -> str | None:
    rows = _attendance_rows(w, w.live_session_id)
    if any(user_id != act.user_id for user_id, *_ in rows):
        return "checked in someone else"
    return _other_live_unchanged(w, act)


def _no_mark_for_trainee_out(w: World, act: Act) -> str | None:
    from portal.models import Attendance

    if all_of(w, db.select(Attendance.id).where(Attendance.user_id == P(w, "trainee_out").id)):
        return "marked Cohort Out's trainee on Cohort In's roll"
    return None


def _other_request_unchanged(w: World, act: Act) -> str | None:
    from portal.models import MakeupRequest

    if act.principal == "admin":  # admins answer for every cohort
        return None
    if one(w, db.select(MakeupRequest.status).where(MakeupRequest.id == w.other_request_id)) != "pending":
        return "decided a make-up request of Cohort Out"
    return None


def _feedback_saved(w: World, act: Act) -> bool:
    from portal.models import FeedbackAnswer, FeedbackRequest

    answers = all_of(w, db.select(FeedbackAnswer.usefulness).where(FeedbackAnswer.session_id == w.ended_session_id))
    answered = one(
        w,
        db.select(FeedbackRequest.answered).where(
            FeedbackRequest.session_id == w.ended_session_id, FeedbackRequest.user_id == act.user_id
        ),
    )
    return answers == [4] and answered is True


ATTENDS_IN = TAKE_PART_IN  # on Cohort In's rolls as trainees

MATRIX.update(
    {
        ("attendance.live", "GET"): Row(only(*TAKE_PART_IN, *RUN_IN, "admin")),
        ("attendance.checkin", "POST"): Row(
            only(*ATTENDS_IN),
            url=lambda w: {"session_id": w.live_session_id},
            body=lambda w: {"code": w.checkin_code(w.live_session_id)},
            effect=lambda w, act: _status_of(w, w.live_session_id, act.user_id) == "present",
            probes=(
                Probe(
                    "the session id and code of Cohort Out's live session in the body",
                    body=lambda w: {"code": w.checkin_code(w.other_live_session_id), "session_id": str(w.other_live_session_id)},
                    check=_other_live_unchanged,
                ),
                Probe(
                    "another person's user id in the body",
                    body=lambda w: {"code": w.checkin_code(w.live_session_id), "user_id": str(w.peers_in[0].id)},
                    check=_only_own_checkin,
                ),
            ),
        ),
        ("attendance.checkin_window", "POST"): Row(
            only(*RUN_IN, "admin"),
            body=lambda w: {"action": "open"},
            effect=lambda w, act: (
                one(w, db.select(CheckinWindow.opened_at).where(CheckinWindow.session_id == w.cohort.session_ids[0]))
                is not None
            ),
            probes=(Probe("the session id of Cohort Out in the body", body=lambda w: {"action": "close", "session_id": str(w.other_live_session_id)}),),
        ),
        ("attendance.roll_page", "GET"): Row(only(*RUN_IN, "admin")),
        ("attendance.mark", "POST"): Row(
            only(*RUN_IN, "admin"),
            body=lambda w: {"user_id": str(w.peers_in[0].id), "status": "excused", "note": "Doctor's appointment"},
            effect=lambda w, act: _status_of(w, w.cohort.session_ids[0], w.peers_in[0].id) == "excused",
            probes=(
                Probe(
                    "the user id of Cohort Out's trainee",
                    body=lambda w: {"user_id": str(P(w, "trainee_out").id), "status": "present"},
                    check=_no_mark_for_trainee_out,
                ),
            ),
        ),
        ("attendance.mark_all", "POST"): Row(
            only(*RUN_IN, "admin"),
            effect=lambda w, act: (
                _status_of(w, w.cohort.session_ids[0], P(w, "trainee_in").id) == "present"
                and _status_of(w, w.cohort.session_ids[0], w.peers_in[1].id) == "present"
                and _status_of(w, w.cohort.session_ids[0], P(w, "trainee_waitlisted").id) is None
            ),
            probes=(Probe("the session id of Cohort Out in the body", body=lambda w: {"session_id": str(w.other.session_ids[0])}, check=_no_mark_for_trainee_out),),
        ),
        ("attendance.export", "GET"): Row(only(*RUN_IN, "admin")),
        ("attendance.progress", "GET"): Row(only(*TRAINEES)),
        ("attendance.request_makeup", "POST"): Row(
            only(*TAKE_PART_IN),
            url=lambda w: {"session_id": w.other_live_session_id},
            effect=lambda w, act: (
                one(
                    w,
                    db.select(MakeupRequest.status).where(
                        MakeupRequest.user_id == act.user_id, MakeupRequest.host_session_id == w.other_live_session_id
                    ),
                )
                == "pending"
            ),
        ),
        ("attendance.decide_makeup", "POST"): Row(
            only(*RUN_IN, "admin"),
            body=lambda w: {"decision": "accept"},
            effect=lambda w, act: one(w, db.select(MakeupRequest.status).where(MakeupRequest.id == w.request_id)) == "accepted",
            probes=(
                Probe(
                    "a make-up request hosted by Cohort Out under its own address",
                    body=lambda w: {"decision": "accept"},
                    url=lambda w: {"request_id": w.other_request_id},
                    check=_other_request_unchanged,
                ),
            ),
        ),
        ("attendance.feedback_form", "GET"): Row(only(*TAKE_PART_IN), url=lambda w: {"session_id": w.ended_session_id}),
        ("attendance.feedback_form", "POST"): Row(
            only(*TAKE_PART_IN),
            url=lambda w: {"session_id": w.ended_session_id},
            body=lambda w: {"usefulness": "4", "helped": "The role play", "suggestion": ""},
            effect=_feedback_saved,
        ),
        ("attendance.cohort_feedback", "GET"): Row(only(*RUN_IN, "admin")),
        ("attendance.settings", "GET"): Row(only("admin")),
        ("attendance.settings", "POST"): Row(
            only("admin"),
            body=lambda w: {"min_minutes": "60", "counted": ["present", "late"]},
            effect=lambda w, act: (
                (row := one(w, db.select(AttendanceSettings).where(AttendanceSettings.id == 1))) is not None
                and row.min_minutes == 60
                and row.counted_statuses == "present,late"
            ),
        ),
    }
)


# --- exams -------------------------------------------------------------------------------------
from portal.models import Attempt, AttemptGrant, AttemptItem, ExtraTime, Item, Offering  # noqa: E402

ADMIN_ONLY = only("admin")
RUN_IN_OR_ADMIN = only(*RUN_IN, "admin")


def _attempt_page(own="ok", runners="ok"):
    """trainee_in's attempt: theirs; its cohort's facilitators and admins see it; for everyone
    else it does not exist."""
    table = {p: "missing" for p in PRINCIPALS}
    table.update(dict.fromkeys(SIGNED_OUT, "login"))
    table["trainee_in"] = own
    for p in (*RUN_IN, "admin"):
        table[p] = runners
    return table


def _chosen(w: World, attempt_item_id: int):
    return one(w, db.select(AttemptItem.chosen).where(AttemptItem.id == attempt_item_id))


def _untouched_other_attempt(w: World, act: Act) -> str | None:
    if _chosen(w, w.other_attempt_item_id) is not None:
        return "saved an answer into trainee_out's attempt"
    return None


def _no_grant_out(w: World, act: Act) -> str | None:
    out = P(w, "trainee_out").id
    if one(w, db.select(AttemptGrant.id).where(AttemptGrant.user_id == out).limit(1)) is not None:
        return "granted an attempt to a trainee of another cohort"
    if one(w, db.select(ExtraTime.id).where(ExtraTime.user_id == out).limit(1)) is not None:
        return "gave extra time to a trainee of another cohort"
    return None


OFFERING_BODY = {
    "opens_at": "2027-04-05T18:00", "closes_at": "2027-04-06T18:00", "time_limit": "60", "attempts_allowed": "2",
    "wait_hours": "24", "week_1": "7", "week_2": "7", "week_3": "7", "week_4": "7", "week_5": "6", "week_6": "6",
}

MATRIX.update(
    {
        ("exams.index", "GET"): Row({**only(*TRAINEES, *FACILITATORS, "admin")}),
        ("exams.bank_index", "GET"): Row(ADMIN_ONLY),
        ("exams.bank_export_gift", "GET"): Row(ADMIN_ONLY),
        ("exams.bank_export_csv", "GET"): Row(ADMIN_ONLY),
        ("exams.bank_analysis", "GET"): Row(ADMIN_ONLY),
        ("exams.item_new", "GET"): Row(ADMIN_ONLY),
        ("exams.item_new", "POST"): Row(
            ADMIN_ONLY,
            body=lambda w: {"title": "Matrix item", "stem": "Which?", "option_1": "A", "option_2": "B", "correct": "1",
                            "week": "2", "competency": "3", "status": "draft"},
            effect=lambda w, act: one(w, db.select(Item.id).where(Item.title == "Matrix item")) is not None,
        ),
        ("exams.item_edit", "GET"): Row(ADMIN_ONLY),
        ("exams.item_edit", "POST"): Row(
            ADMIN_ONLY,
            body=lambda w: {"title": "Renamed item", "stem": "Which now?", "option_1": "A", "option_2": "B",
                            "correct": "2", "week": "2", "competency": "3", "status": "active"},
            effect=lambda w, act: one(w, db.select(Item.title).where(Item.id == w.item_id)) == "Renamed item",
        ),
        ("exams.bank_import", "GET"): Row(ADMIN_ONLY),
        ("exams.bank_import", "POST"): Row(
            ADMIN_ONLY,
            body=lambda w: {"kind": "gift", "source": "::Imported::Which? {=yes ~no}", "week": "1", "competency": "1",
                            "status": "draft", "action": "save"},
            effect=lambda w, act: one(w, db.select(Item.id).where(Item.title == "Imported")) is not None,
        ),
        ("exams.open_test", "GET"): Row(RUN_IN_OR_ADMIN),
        ("exams.open_test", "POST"): Row(
            RUN_IN_OR_ADMIN,
            body=lambda w: OFFERING_BODY,
            effect=lambda w, act: len(all_of(w, db.select(Offering.id).where(Offering.cohort_id == w.cohort.id))) == 2,
        ),
        ("exams.offering", "GET"): Row(RUN_IN_OR_ADMIN),
        ("exams.offering_analysis", "GET"): Row(RUN_IN_OR_ADMIN),
        ("exams.grant_attempt", "POST"): Row(
            RUN_IN_OR_ADMIN,
            body=lambda w: {"grant_person": P(w, "trainee_in").id},
            effect=lambda w, act: one(
                w, db.select(AttemptGrant.id).where(AttemptGrant.user_id == P(w, "trainee_in").id)
            ) is not None,
            probes=(Probe("a trainee of Cohort Out", lambda w: {"grant_person": P(w, "trainee_out").id},
                          check=_no_grant_out),),
        ),
        ("exams.extra_time", "POST"): Row(
            RUN_IN_OR_ADMIN,
            body=lambda w: {"time_person": P(w, "trainee_in").id, "minutes": "20"},
            effect=lambda w, act: one(
                w, db.select(ExtraTime.minutes).where(ExtraTime.user_id == P(w, "trainee_in").id)
            ) == 20,
            probes=(Probe("a trainee of Cohort Out", lambda w: {"time_person": P(w, "trainee_out").id,
                                                                "minutes": "20"}, check=_no_grant_out),),
        ),
        ("exams.start", "POST"): Row(
            only(*TAKE_PART_IN),
            effect=lambda w, act: one(
                w, db.select(Attempt.id).where(Attempt.user_id == act.user_id, Attempt.status == "open")
            ) is not None,
            probes=(Probe("Cohort Out's offering", lambda w: {}, url=lambda w: {"offering_id": w.other_offering_id}),),
        ),
        ("exams.attempt", "GET"): Row(_attempt_page()),
        ("exams.summary", "GET"): Row(_attempt_page(runners="deny")),
        ("exams.review", "GET"): Row(_attempt_page(), url=lambda w: {"attempt_id": w.done_attempt_id}),
        ("exams.save_answers", "POST"): Row(
            _attempt_page(runners="deny"),
            body=lambda w: {"items": w.attempt_item_id, f"a-{w.attempt_item_id}": "0"},
            effect=lambda w, act: _chosen(w, w.attempt_item_id) is not None,
            probes=(
                Probe("an item of trainee_out's attempt in the body",
                      lambda w: {"items": w.other_attempt_item_id, f"a-{w.other_attempt_item_id}": "0"},
                      check=_untouched_other_attempt),
                Probe("trainee_out's attempt in the URL",
                      lambda w: {"items": w.other_attempt_item_id, f"a-{w.other_attempt_item_id}": "0"},
                      url=lambda w: {"attempt_id": w.other_attempt_id}, check=_untouched_other_attempt),
            ),
        ),
        ("exams.submit", "POST"): Row(
            _attempt_page(runners="deny"),
            effect=lambda w, act: one(w, db.select(Attempt.status).where(Attempt.id == w.attempt_id)) == "submitted",
        ),
    }
)



# --- assessment: the oral exam, checklists, competencies ----------------------------------------------


def _assessment_rows() -> dict[tuple[str, str], Row]:
    from portal.models import (
        ChecklistItem,
        ChecklistTemplate,
        ChecklistVersion,
        CompetencyRecord,
        OralExam,
        OralExamMark,
        OralExamResult,
        OutboxMail,
        ReminderSubscription,
    )

    def result_of(w, user_id):
        return one(
            w,
            db.select(OralExamResult).where(OralExamResult.exam_id == w.exam_id, OralExamResult.trainee_id == user_id),
        )

    def marks_of(w, user_id):
        return all_of(
            w,
            db.select(OralExamMark.value)
            .join(OralExamResult, OralExamResult.id == OralExamMark.result_id)
            .where(OralExamResult.trainee_id == user_id),
        )

    def no_marks_for_cohort_out(w, act):
        return "marked a trainee of Cohort Out" if marks_of(w, P(w, "trainee_out").id) else None

    def no_mail(w, act):
        return "sent mail" if act.before["outbox_mail"] != act.after["outbox_mail"] else None

    def records(w, user_id):
        return {
            r.competency: r.status
            for r in all_of(w, db.select(CompetencyRecord).where(CompetencyRecord.trainee_id == user_id))
        }

    def no_records_for_trainee_out(w, act):
        return "answered for trainee_out" if records(w, P(w, "trainee_out").id) else None

    def titles(w, *item_ids):
        found = {i.id: i.title for i in all_of(w, db.select(ChecklistItem).where(ChecklistItem.id.in_(item_ids)))}
        return [found[i] for i in item_ids]

    def unsubscribed(w, user_id):
        return (
            one(
                w,
                db.select(ReminderSubscription.unsubscribed_at).where(ReminderSubscription.supervisor_id == user_id),
            )
            is not None
        )

    def current_items(w):
        version = one(
            w,
            db.select(ChecklistVersion.id)
            .where(ChecklistVersion.template_id == w.template_id)
            .order_by(ChecklistVersion.number.desc())
            .limit(1),
        )
        return all_of(  # in order: PostgreSQL returns rows in no particular order without it
            w, db.select(ChecklistItem).where(ChecklistItem.version_id == version).order_by(ChecklistItem.position)
        )

    item_form = lambda prefix, title: {  # noqa: E731
        f"{prefix}-competency": "3",
        f"{prefix}-title": title,
        f"{prefix}-met_looks_like": "Names two options.",
        f"{prefix}-required": "yes",
    }
    week6 = lambda w: {"session_id": w.cohort.session_ids[5]}  # noqa: E731
    trainee_out_url = lambda w: {"trainee_id": P(w, "trainee_out").id}  # noqa: E731
    staff = only(*RUN_IN, "admin")
    return {
        ("assessment.checklists_index", "GET"): Row(only("admin")),
        ("assessment.checklist", "GET"): Row(only("admin")),
        ("assessment.edit_item", "POST"): Row(
            only("admin"),
            body=lambda w: item_form(f"item{w.item_ids[0]}", "Reworded item"),
            # The version is used by the world's exam: the edit makes version 2.
            effect=lambda w, act: (
                (items := current_items(w))[0].title == "Reworded item" and items[0].id != w.item_ids[0]
            ),
        ),
        ("assessment.add_item", "POST"): Row(
            only("admin"),
            body=lambda w: item_form("new", "A new item"),
            effect=lambda w, act: current_items(w)[-1].title == "A new item",
        ),
        ("assessment.cohort_assessment", "GET"): Row(staff),
        ("assessment.open_exam", "POST"): Row(
            staff,
            url=week6,
            body=lambda w: {"template_id": str(w.template_id)},
            effect=lambda w, act: (
                len(all_of(w, db.select(OralExam.id).where(OralExam.session_id == w.cohort.session_ids[5]))) == 2
            ),
        ),
        ("assessment.remind_supervisor", "POST"): Row(
            staff,
            effect=lambda w, act: (
                one(w, db.select(OutboxMail.to_address).where(OutboxMail.to_address == P(w, "supervisor_in").email))
                is not None
            ),
            probes=(
                Probe(
                    "Cohort Out's trainee under Cohort In's address",
                    body=lambda w: {},
                    url=trainee_out_url,
                    check=no_mail,
                ),
            ),
        ),
        ("assessment.grid", "GET"): Row(staff),
        ("assessment.mark_cell", "POST"): Row(
            staff,
            body=lambda w: {"mark": "met:0"},
            effect=lambda w, act: marks_of(w, P(w, "trainee_in").id) == ["met"],
            probes=(
                Probe(
                    "Cohort Out's trainee in the address",
                    body=lambda w: {"mark": "met:0"},
                    url=trainee_out_url,
                    check=no_marks_for_cohort_out,
                ),
            ),
        ),
        ("assessment.trainee_marks", "GET"): Row(staff),
        ("assessment.trainee_marks", "POST"): Row(
            staff,
            body=lambda w: {
                f"m_{w.item_ids[0]}": "not_yet",
                f"o_{w.item_ids[0]}": "not_observed",
                f"v_{w.item_ids[0]}": "0",
                "note": "Spoke clearly",
                "note_version": "0",
            },
            effect=lambda w, act: (
                marks_of(w, P(w, "trainee_in").id) == ["not_yet"]
                and result_of(w, P(w, "trainee_in").id).note == "Spoke clearly"
            ),
            probes=(
                Probe(
                    "Cohort Out's trainee in the address",
                    body=lambda w: {
                        f"m_{w.item_ids[0]}": "met",
                        f"o_{w.item_ids[0]}": "not_observed",
                        f"v_{w.item_ids[0]}": "0",
                        "note": "x",
                        "note_version": "0",
                    },
                    url=trainee_out_url,
                    check=no_marks_for_cohort_out,
                ),
            ),
        ),
        ("assessment.finalise", "POST"): Row(
            staff,
            effect=lambda w, act: (
                (r := result_of(w, P(w, "trainee_in").id)) is not None
                and r.outcome == "not_passed"
                and r.finalised_by_id == act.user_id
            ),
        ),
        # Cohort Out's sitting: trainee_out's finalised result (Peer In 1's in Cohort In is the
        # one a certificate was issued on, which stays: see test_certification).
        ("assessment.unlock", "POST"): Row(
            only("facilitator_out", "admin"),
            url=lambda w: {"exam_id": w.out_exam_id, "trainee_id": P(w, "trainee_out").id},
            body=lambda w: {"reason": "Marked against the wrong person"},
            effect=lambda w, act: one(
                w,
                db.select(OralExamResult.finalised_at).where(
                    OralExamResult.exam_id == w.out_exam_id, OralExamResult.trainee_id == P(w, "trainee_out").id
                ),
            )
            is None,
        ),
        ("assessment.add_reexaminee", "POST"): Row(
            staff,
            # A make-up: a trainee of another cohort who has not passed may sit this exam.
            body=lambda w: {"email": P(w, "trainee_out").email},
            effect=lambda w, act: result_of(w, P(w, "trainee_out").id) is not None,
        ),
        ("assessment.mine", "GET"): Row(only(*TRAINEES)),
        ("assessment.supervision", "GET"): Row(only(*SUPERVISORS)),
        # Only trainee_in's current supervisor; dual_role supervises someone else.
        ("assessment.supervisee", "GET"): Row(only("supervisor_in")),
        ("assessment.confirm", "POST"): Row(
            only("supervisor_in"),
            body=lambda w: {"competencies": ["1", "2"], "evidence": "Seen at work"},
            effect=lambda w, act: records(w, P(w, "trainee_in").id) == {1: "confirmed", 2: "confirmed"},
            probes=(
                Probe(
                    "Cohort Out's trainee in the address",
                    body=lambda w: {"competencies": ["1"]},
                    url=trainee_out_url,
                    check=no_records_for_trainee_out,
                ),
            ),
        ),
        ("assessment.decline", "POST"): Row(
            only("supervisor_in"),
            body=lambda w: {"competency": "4", "reason": "Not seen yet"},
            effect=lambda w, act: records(w, P(w, "trainee_in").id) == {4: "declined"},
            probes=(
                Probe(
                    "Cohort Out's trainee in the address",
                    body=lambda w: {"competency": "4", "reason": "x"},
                    url=trainee_out_url,
                    check=no_records_for_trainee_out,
                ),
            ),
        ),
        # The unsubscribe link of the weekly reminder: the signed token is the credential.
        ("assessment.unsubscribe", "GET"): Row(everyone(), url=lambda w: {"token": w.unsubscribe_token}),
        ("assessment.unsubscribe_confirm", "POST"): Row(
            everyone(),
            url=lambda w: {"token": w.unsubscribe_token},
            effect=lambda w, act: unsubscribed(w, P(w, "supervisor_in").id),
        ),
        ("assessment.reminders", "POST"): Row(
            only(*SUPERVISORS),
            body=lambda w: {"reminders": "off"},
            effect=lambda w, act: unsubscribed(w, act.user_id),
        ),
        ("assessment.create_checklist", "POST"): Row(
            only("admin"),
            body=lambda w: {"name": "A second checklist"},
            effect=lambda w, act: (
                one(w, db.select(ChecklistTemplate.id).where(ChecklistTemplate.name == "A second checklist"))
                is not None
            ),
        ),
        ("assessment.retire_checklist", "POST"): Row(
            only("admin"),
            effect=lambda w, act: (
                one(w, db.select(ChecklistTemplate.retired_at).where(ChecklistTemplate.id == w.template_id)) is not None
            ),
        ),
        ("assessment.move_item", "POST"): Row(
            only("admin"),
            url=lambda w: {"item_id": w.item_ids[1]},
            body=lambda w: {"direction": "up"},
            # The version is used by the world's exam: the move makes version 2, items 1 and 2 swapped.
            effect=lambda w, act: (
                [i.title for i in sorted(current_items(w), key=lambda i: i.position)][:2]
                == titles(w, w.item_ids[1], w.item_ids[0])
            ),
        ),
    }


MATRIX.update(_assessment_rows())

# --- ux: the audit log's CSV export (the log page itself has its row above) ---
MATRIX.update(
    {
        ("admin.audit_csv", "GET"): Row(only("admin")),
    }
)


# --- certification -----------------------------------------------------------------------------------


def _certification_rows() -> dict[tuple[str, str], Row]:
    from portal.models import Certificate, CertificationChoice, CertificationSettings

    def cert_status(w, cert_id):
        return one(w, db.select(Certificate.status).where(Certificate.id == cert_id))

    def valid_for(w, user_id):
        return one(w, db.select(Certificate.id).where(Certificate.user_id == user_id, Certificate.status == "valid"))

    def no_certificate_out(w, act):
        return "issued a certificate in Cohort Out" if valid_for(w, P(w, "trainee_out").id) else None

    holder_sees = only("admin", *RUN_IN, "supervisor_in")  # Peer In 1's: facilitators, supervisor
    return {
        ("certification.mine", "GET"): Row(only(*TRAINEES)),
        ("certification.choices", "POST"): Row(
            only(*TAKE_PART_IN),
            body=lambda w: {"certificate_name": "Matrix Name", "celebrate": "y", "message": "Hello"},
            effect=lambda w, act: one(
                w, db.select(CertificationChoice.certificate_name).where(CertificationChoice.user_id == act.user_id)
            ) == "Matrix Name",
            probes=(Probe("Cohort Out's id", lambda w: {"certificate_name": "Out"}, url=lambda w: {"cohort_id": w.other.id}),),
        ),
        ("certification.certificate", "GET"): Row(holder_sees),
        ("certification.pdf", "GET"): Row(holder_sees),
        ("certification.credential", "GET"): Row(holder_sees),
        # A trainee never changes their own certificate; only admins revoke or reissue.
        ("certification.revoke", "POST"): Row(
            only("admin"),
            body=lambda w: {"revoke-reason": "Matrix revocation"},
            effect=lambda w, act: cert_status(w, w.cert_id) == "revoked",
        ),
        ("certification.reissue", "POST"): Row(
            only("admin"),
            body=lambda w: {"reissue-holder_name": "Peer In One", "reissue-reason": "Name change"},
            effect=lambda w, act: cert_status(w, w.cert_id) == "replaced" and valid_for(w, w.peers_in[0].id) is not None,
        ),
        ("certification.cohort_page", "GET"): Row(only("admin", *RUN_IN)),
        # Facilitators of the cohort (and admins) approve; a supervisor or a trainee never does.
        ("certification.approve", "POST"): Row(
            only("admin", *RUN_IN),
            url=lambda w: {"trainee_id": w.cert_ready_id},
            effect=lambda w, act: valid_for(w, w.cert_ready_id) is not None,
            probes=(
                Probe("a trainee of Cohort Out", lambda w: {}, url=lambda w: {"trainee_id": P(w, "trainee_out").id},
                      check=no_certificate_out),
                Probe("Cohort Out's id", lambda w: {}, url=lambda w: {"cohort_id": w.other.id, "trainee_id": w.cert_ready_id},
                      check=lambda w, act: "issued through Cohort Out" if act.before["certificates"] != act.after["certificates"] else None),
            ),
        ),
        ("certification.settings", "GET"): Row(only("admin")),
        ("certification.settings", "POST"): Row(
            only("admin"),
            body=lambda w: {"min_weeks": "5", "min_hours": "0", "required": ["1", "2", "3"], "pass_percent": "75"},
            effect=lambda w, act: one(
                w, db.select(CertificationSettings.min_weeks).where(CertificationSettings.cohort_id == w.cohort.id)
            ) == 5,
        ),
        ("certification.celebration", "GET"): Row(only("admin", *RUN_IN, *TAKE_PART_IN)),
        ("certification.verify_form", "GET"): Row(everyone()),
        ("certification.verify", "GET"): Row(everyone()),
        ("certification.jwks", "GET"): Row(everyone()),
        ("certification.revocations", "GET"): Row(everyone()),
    }


MATRIX.update(_certification_rows())


# --- notify (issue 13): notifications, search, directory, direct messages ---------------------------
# tests/world.py (World._notify): trainee_in has a notification (notification_id) and a
# conversation with Peer In 1 (conversation_id, message_id by Peer In 1); Peer In 1 is listed in
# the directory (person_id); notify_token is trainee_in's unsubscribe link. Search, directory
# and messages are for the people of the boards: every trainee, facilitator and admin, not
# supervisors (dual_role is a trainee too). A conversation exists only for its members.

CONNECT = {**only(*TRAINEES, *FACILITATORS, "admin")}
IN_CONVERSATION = {
    **{p: "missing" for p in PRINCIPALS},
    **dict.fromkeys(SIGNED_OUT, "login"),
    "trainee_in": "ok",
}


def _notify_rows() -> dict[tuple[str, str], Row]:
    from portal.models import (
        Block,
        Conversation,
        ConversationMember,
        DirectMessage,
        DirectoryEntry,
        Follow,
        MailChoice,
        MessageReport,
        Notification,
    )

    def follows(w, act, **target):
        query = db.select(Follow.id).where(Follow.user_id == act.user_id)
        for name, value in target.items():
            query = query.where(getattr(Follow, name) == value)
        return one(w, query.limit(1)) is not None

    def no_follow_of(name, value):
        def check(w, act):
            if act.principal != "admin" and follows(w, act, **{name: value(w)}):
                return "followed something of Cohort Out"
            return None

        return check

    def other_conversation_unchanged(w, act):
        ids = all_of(w, db.select(DirectMessage.id).where(DirectMessage.conversation_id == w.notify_other_conversation_id))
        return "wrote into another conversation" if len(ids) != 1 else None

    def no_conversation_named(subject):
        def check(w, act):
            if one(w, db.select(Conversation.id).where(Conversation.subject == subject).limit(1)) is not None:
                return f"started “{subject}”"
            return None

        return check

    def reports_unchanged(w, act):
        for table in ("dm_reports", "dm_messages", "audit_events"):
            if act.before[table] != act.after[table]:
                return f"changed {table} for a message nobody reported"
        return None

    def no_block(w, act):
        return "blocked someone outside the conversation" if act.before["dm_blocks"] != act.after["dm_blocks"] else None

    return {
        ("notifications.index", "GET"): Row(signed_in()),
        ("notifications.read_all", "POST"): Row(
            signed_in(),
            effect=lambda w, act: not all_of(
                w, db.select(Notification.id).where(Notification.user_id == act.user_id, Notification.read_at.is_(None))
            ),
        ),
        ("notifications.mail_choice", "POST"): Row(
            signed_in(),
            body=lambda w: {"mode": "off"},
            effect=lambda w, act: one(w, db.select(MailChoice.mode).where(MailChoice.user_id == act.user_id)) == "off",
        ),
        # Someone else's notification does not exist for this person.
        ("notifications.open_one", "POST"): Row(
            IN_CONVERSATION,
            effect=lambda w, act: (
                one(w, db.select(Notification.read_at).where(Notification.id == w.notify_notification_id)) is not None
            ),
        ),
        ("notifications.follow_thread", "POST"): Row(
            BOARD_IN,
            body=lambda w: {"action": "follow"},
            effect=lambda w, act: follows(w, act, thread_id=w.thread_id),
            probes=(
                Probe(
                    "thread of Cohort Out",
                    url=lambda w: {"thread_id": w.other_thread_id},
                    body=lambda w: {"action": "follow"},
                    check=no_follow_of("thread_id", lambda w: w.other_thread_id),
                ),
            ),
        ),
        ("notifications.follow_board", "POST"): Row(
            BOARD_IN,
            body=lambda w: {"action": "follow"},
            effect=lambda w, act: follows(w, act, board_id=w.board_in),
            probes=(
                Probe(
                    "board of Cohort Out",
                    url=lambda w: {"board_id": w.board_out},
                    body=lambda w: {"action": "follow"},
                    check=no_follow_of("board_id", lambda w: w.board_out),
                ),
            ),
        ),
        ("notifications.mention_suggestions", "GET"): Row(BOARD_IN),
        # The signed token in the mailed link is the credential, signed in or not.
        ("notifications.unsubscribe", "GET"): Row(everyone()),
        ("notifications.unsubscribe_confirm", "POST"): Row(
            everyone(),
            effect=lambda w, act: (
                one(w, db.select(MailChoice.mode).where(MailChoice.user_id == P(w, "trainee_in").id)) == "off"
            ),
        ),
        ("search.page", "GET"): Row(CONNECT, url=lambda w: {}),
        ("directory.index", "GET"): Row(CONNECT),
        ("directory.entry", "GET"): Row(CONNECT),
        ("directory.entry", "POST"): Row(
            CONNECT,
            body=lambda w: {"listed": "y", "region": "Matrixland", "interests": "peer work", "intro": "Hello."},
            effect=lambda w, act: (
                one(w, db.select(DirectoryEntry.region).where(DirectoryEntry.user_id == act.user_id)) == "Matrixland"
            ),
        ),
        ("messages.index", "GET"): Row(CONNECT),
        ("messages.new", "GET"): Row(CONNECT),
        ("messages.new", "POST"): Row(
            CONNECT,
            body=lambda w: {"subject": "Matrix hello", "body": "Hello from the matrix."},
            effect=lambda w, act: (
                one(
                    w,
                    db.select(ConversationMember.id)
                    .join(Conversation, Conversation.id == ConversationMember.conversation_id)
                    .where(Conversation.subject == "Matrix hello", ConversationMember.user_id == act.user_id),
                )
                is not None
            ),
        ),
        # A conversation with a few people: only people listed in the directory, at most four
        # besides oneself; the body names people (never a conversation), so the probes send
        # someone not listed and too many people, and nothing may start.
        ("messages.start", "POST"): Row(
            CONNECT,
            body=lambda w: {
                "to": [str(w.peers_in[0].id), str(w.peers_out[0].id)],
                "subject": "Matrix group",
                "body": "Hello, all of you.",
                "step": "start",
            },
            effect=lambda w, act: (
                sorted(
                    all_of(
                        w,
                        db.select(ConversationMember.user_id)
                        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
                        .where(Conversation.subject == "Matrix group"),
                    )
                )
                == sorted([act.user_id, w.peers_in[0].id, w.peers_out[0].id])
            ),
            probes=(
                Probe(
                    "someone not listed in the directory",
                    body=lambda w: {
                        "to": [str(w.peers_in[0].id), str(P(w, "supervisor_in").id)],
                        "subject": "Matrix probe",
                        "body": "Hello.",
                        "step": "start",
                    },
                    check=no_conversation_named("Matrix probe"),
                ),
                Probe(
                    "more than four people",
                    body=lambda w: {
                        "to": [str(i) for i in (w.peers_in[0].id, w.peers_out[0].id, *(P(w, k).id for k in (
                            "trainee_in", "trainee_out", "facilitator_in", "admin")))],
                        "subject": "Matrix probe",
                        "body": "Hello.",
                        "step": "start",
                    },
                    check=no_conversation_named("Matrix probe"),
                ),
            ),
        ),
        ("messages.conversation", "GET"): Row(IN_CONVERSATION),
        ("messages.new_messages", "GET"): Row(IN_CONVERSATION),
        ("messages.send", "POST"): Row(
            IN_CONVERSATION,
            body=lambda w: {"body": "A matrix message."},
            effect=lambda w, act: (
                one(
                    w,
                    db.select(DirectMessage.conversation_id).where(
                        DirectMessage.body == "A matrix message.", DirectMessage.author_id == act.user_id
                    ),
                )
                == w.notify_conversation_id
            ),
            probes=(
                Probe(
                    "another conversation",
                    url=lambda w: {"conversation_id": w.notify_other_conversation_id},
                    body=lambda w: {"body": "A matrix message."},
                    check=other_conversation_unchanged,
                ),
            ),
        ),
        ("messages.block", "POST"): Row(
            IN_CONVERSATION,
            body=lambda w: {"user_id": str(w.peers_in[0].id), "action": "block"},
            effect=lambda w, act: (
                one(w, db.select(Block.blocked_id).where(Block.blocker_id == act.user_id)) == w.peers_in[0].id
            ),
            probes=(
                Probe(
                    "someone outside the conversation",
                    body=lambda w: {"user_id": str(P(w, "trainee_out").id), "action": "block"},
                    check=no_block,
                ),
            ),
        ),
        ("messages.report", "POST"): Row(
            IN_CONVERSATION,
            body=lambda w: {"reason": "Matrix report"},
            effect=lambda w, act: (
                one(w, db.select(MessageReport.reporter_id).where(MessageReport.message_id == w.notify_message_id))
                == act.user_id
            ),
        ),
        ("messages.reports", "GET"): Row(only("admin")),
        # Admins act on a reported message only; a message nobody reported does not exist for them.
        ("messages.handle_report", "POST"): Row(
            only("admin"),
            url=lambda w: {"message_id": w.notify_reported_message_id},
            body=lambda w: {"action": "remove"},
            effect=lambda w, act: (
                one(w, db.select(MessageReport.outcome).where(MessageReport.message_id == w.notify_reported_message_id))
                == "removed"
                and one(w, db.select(DirectMessage.hidden_at).where(DirectMessage.id == w.notify_reported_message_id))
                is not None
            ),
            probes=(
                Probe(
                    "a message nobody reported",
                    url=lambda w: {"message_id": w.notify_message_id},
                    body=lambda w: {"action": "remove"},
                    check=reports_unchanged,
                ),
            ),
        ),
    }


MATRIX.update(_notify_rows())


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_row(app):
    missing = [
        f"{rule.endpoint} {method} {rule.rule}" for rule, method in _rules(app) if (rule.endpoint, method) not in MATRIX
    ]
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(missing)
    stale = [key for key in MATRIX if key not in {(r.endpoint, m) for r, m in _rules(app)}]
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_row_names_every_principal():
    for key, row in MATRIX.items():
        assert set(row.outcomes) == set(PRINCIPALS), key
        assert set(row.outcomes.values()) <= {"ok", "noop", "login", "deny", "missing"}, key
        if key[1] != "GET" and "ok" in row.outcomes.values():
            assert row.effect is not None, f"{key}: a state-changing row needs an effect"


def classify(response) -> str:
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login?next="):
        return "login"
    if response.status_code == 401:
        return "login"
    if response.status_code == 403:
        return "deny"
    if response.status_code == 404:
        return "missing"
    if response.status_code in (200, 204, 301, 302, 303):
        return "served"
    return f"status {response.status_code}"


# --- comparing snapshots --------------------------------------------------------------------------


def _dicts(snap, table):
    names = columns(table)
    return [dict(zip(names, row, strict=True)) for row in snap[table]]


def _without_refused_session(snap, act: Act):
    """A deactivated account's session is ended by the request that presents it: that is the
    refusal itself, not a change the request made."""
    if act.principal != "deactivated":
        return snap
    index = columns("user_sessions").index("token_hash")
    return {**snap, "user_sessions": frozenset(r for r in snap["user_sessions"] if r[index] != act.session_hash)}


def changes(act: Act) -> dict[str, tuple[set, set]]:
    before, after = _without_refused_session(act.before, act), _without_refused_session(act.after, act)
    return {
        table: (set(before[table] - after[table]), set(after[table] - before[table]))
        for table in before
        if before[table] != after.get(table)
    }


def describe(diff: dict[str, tuple[set, set]]) -> str:
    lines = []
    for table, (gone, new) in diff.items():
        lines.append(f"    {table}: -{sorted(map(str, gone))[:3]} +{sorted(map(str, new))[:3]}")
    return "\n".join(lines)


def cohort_out_part(w: World, snap, act: Act) -> dict[str, frozenset]:
    """The rows that belong to Cohort Out: the cohort, its sessions, facilitators, roster,
    pairs, handouts, and its people's accounts, roles and supervisions (the acting person's own
    account aside: editing one's own profile is not a change to Cohort Out)."""
    out = w.other.id
    dyads = {d["id"] for d in _dicts(snap, "dyads") if d["cohort_id"] == out}
    people = {e["user_id"] for e in _dicts(snap, "enrollments") if e["cohort_id"] == out}
    people |= {f["user_id"] for f in _dicts(snap, "cohort_facilitators") if f["cohort_id"] == out}
    people.discard(act.user_id)
    keep = {
        "cohorts": lambda r: r["id"] == out,
        "cohort_sessions": lambda r: r["cohort_id"] == out,
        "cohort_facilitators": lambda r: r["cohort_id"] == out,
        "enrollments": lambda r: r["cohort_id"] == out,
        "dyads": lambda r: r["cohort_id"] == out,
        "handouts": lambda r: r["cohort_id"] == out,
        "dyad_members": lambda r: r["dyad_id"] in dyads,
        "supervisions": lambda r: r["trainee_id"] in people,
        "users": lambda r: r["id"] in people,
        "user_roles": lambda r: r["user_id"] in people,
    }
    return {table: frozenset(tuple(r.values()) for r in _dicts(snap, table) if test(r)) for table, test in keep.items()}


def cohort_out_changes(w: World, act: Act) -> str | None:
    before, after = cohort_out_part(w, act.before, act), cohort_out_part(w, act.after, act)
    changed = {t: (set(before[t] - after[t]), set(after[t] - before[t])) for t in before if before[t] != after[t]}
    return "changed Cohort Out:\n" + describe(changed) if changed else None


# --- sending requests ---------------------------------------------------------------------------


class Fresh:
    """A fresh world before each request. Restoring costs more than comparing, so the world is
    restored only when the last request left it different from the world as built (new
    sessions aside: a session row of someone else changes nothing for the next principal)."""

    def __init__(self, app, world: World):
        self.app, self.world = app, world
        world.restore()
        self.pristine = snapshot(app)
        self.last = self.pristine

    @staticmethod
    def _key(snap):
        return {t: rows for t, rows in snap.items() if t != "user_sessions"}

    def __call__(self) -> None:
        if self._key(self.last) != self._key(self.pristine):
            self.world.restore(self.pristine, self.last)
        with self.app.app_context():
            limiter.reset()

    def left(self, act: Act) -> None:
        self.last = act.after


def sign_in(app, client, world: World, principal: str) -> tuple[int | None, str | None]:
    if principal == "anonymous":
        return None, None
    import hashlib

    token = AuthActions(client, app).login_as(world.people[principal])
    return world.people[principal].id, hashlib.sha256(token.encode()).hexdigest()


def send(app, world: World, principal: str, method: str, url: str, body: dict) -> tuple[object, Act]:
    client = app.test_client()
    user_id, session_hash = sign_in(app, client, world, principal)
    before = snapshot(app)
    response = client.open(url, method=method, data=body)
    return response, Act(principal, user_id, session_hash, before, snapshot(app))


def judge(world: World, row: Row, method: str, expected: str, response, act: Act) -> str | None:
    got = classify(response)
    status = f"{response.status_code} {response.headers.get('Location', '')}".strip()
    if expected in ("ok", "noop"):
        if got != "served":
            return f"expected {expected}, got {status}"
    elif got != expected:
        return f"expected {expected}, got {status}"
    if expected == "ok" and method != "GET":
        if not row.effect(world, act):
            return f"allowed ({status}) but the change did not happen; database changes:\n{describe(changes(act))}"
    elif changes(act):
        return f"{expected} ({status}) but the database changed:\n{describe(changes(act))}"
    return cohort_out_changes(world, act)


ROWS = sorted(MATRIX)


@pytest.mark.parametrize(("endpoint", "method"), ROWS, ids=[f"{e}-{m}" for e, m in ROWS])
def test_route_outcome(app, endpoint, method):
    """Every principal against one route. A GET changes nothing, so one world serves them all;
    a state-changing request gets a fresh world for each principal and for each probe."""
    rule = next(r for r, m in _rules(app) if r.endpoint == endpoint and m == method)
    row = MATRIX[(endpoint, method)]
    world = World.fresh(app)
    fresh = Fresh(app, world)
    wrong = []
    for principal in PRINCIPALS:
        if method != "GET":
            fresh()
        response, act = send(app, world, principal, method, world.url_for(rule, **row.url(world)), row.body(world))
        fresh.left(act)
        problem = judge(world, row, method, row.outcomes[principal], response, act)
        if problem:
            wrong.append(f"{principal}: {problem}")
    for probe in row.probes:
        for principal in (p for p in PRINCIPALS if row.outcomes[p] == "ok"):
            fresh()
            url = world.url_for(rule, **{**row.url(world), **probe.url(world)})
            response, act = send(app, world, principal, method, url, probe.body(world))
            fresh.left(act)
            problem = (
                (f"status {response.status_code}" if response.status_code >= 500 else None)
                or cohort_out_changes(world, act)
                or probe.check(world, act)
            )
            if problem:
                wrong.append(f"{principal} with {probe.name}: {problem}")
    assert not wrong, f"{method} {rule.rule}:\n" + "\n".join(wrong)


# --- what the pages show -----------------------------------------------------------------------


def _page(app, world: World, principal: str, url: str):
    client = app.test_client()
    sign_in(app, client, world, principal)
    return client.get(url)


def test_waitlisted_trainee_sees_their_place_and_the_dates_but_nothing_of_the_people(app):
    from tests.factories import text_of

    world = World.fresh(app)
    response = _page(app, world, "trainee_waitlisted", f"/cohorts/{world.cohort.id}")
    assert response.status_code == 200
    page = text_of(response)
    html = response.get_data(as_text=True)
    assert "waitlist" in page.lower()
    assert "2027" in page and ("Mar" in page or "March" in page), "the cohort's dates"
    assert "cohort-in-room" not in html, "the meeting link belongs to the people taking part"
    for name in ("Trainee In", "Peer In 1", "Peer In 2", "Dual Role"):
        assert name not in page, f"{name} is on the roster or in a pair: not for the waitlist"
    dashboard = _page(app, world, "trainee_waitlisted", "/dashboard/trainee")
    assert dashboard.status_code == 200
    assert "cohort-in-room" not in dashboard.get_data(as_text=True)
    assert "Peer In" not in text_of(dashboard) and "Dual Role" not in text_of(dashboard)


def test_withdrawn_and_waitlisted_feeds_hold_nothing_of_the_cohort(app):
    world = World.fresh(app)
    client = app.test_client()
    with app.app_context():
        uids = set(
            db.session.execute(db.select(CohortSession.uid).where(CohortSession.cohort_id == world.cohort.id)).scalars()
        )
    taking_part = client.get(f"/calendar/{world.feeds['trainee_in']}.ics")
    assert taking_part.status_code == 200
    assert all(uid in taking_part.get_data(as_text=True) for uid in uids)  # the control
    withdrawn = client.get(f"/calendar/{world.feeds['trainee_withdrawn']}.ics")
    assert withdrawn.status_code == 200
    assert not any(uid in withdrawn.get_data(as_text=True) for uid in uids), "a withdrawn person loses the cohort"
    waiting = client.get(f"/calendar/{world.feeds['trainee_waitlisted']}.ics")
    assert waiting.status_code == 200
    assert "cohort-in-room" not in waiting.get_data(as_text=True), "no meeting link for the waitlist"
    assert client.get(f"/calendar/{world.feeds['deactivated']}.ics").status_code == 404
    assert client.get("/calendar/not-a-valid-token-at-all-0000.ics").status_code == 404


def test_two_roles_give_both_dashboards_and_no_more(app):
    from tests.factories import text_of

    world = World.fresh(app)
    supervising = _page(app, world, "dual_role", "/dashboard/supervisor")
    assert supervising.status_code == 200 and "Trainee Out" in text_of(supervising)
    training = _page(app, world, "dual_role", "/dashboard/trainee")
    assert training.status_code == 200 and "Cohort In" in text_of(training)
    # Supervising trainee_out gives nothing of trainee_out's cohort.
    assert _page(app, world, "dual_role", f"/cohorts/{world.other.id}").status_code == 403
    assert _page(app, world, "dual_role", f"/sessions/{world.other.session_ids[0]}").status_code == 403
    assert _page(app, world, "dual_role", f"/handouts/{world.other_handout_id}").status_code == 403


def test_withdrawn_trainee_loses_the_cohort_everywhere(app):
    from tests.factories import text_of

    world = World.fresh(app)
    for url in ("/dashboard/trainee", "/calendar"):
        response = _page(app, world, "trainee_withdrawn", url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "cohort-in-room" not in html, f"{url} shows the meeting link of a cohort they left"
        assert f"/sessions/{world.cohort.session_ids[0]}" not in html, f"{url} links a session of a cohort they left"
        assert f"/handouts/{world.handout_id}" not in html, f"{url} links a handout of a cohort they left"
        assert "Peer In 2" not in text_of(response), f"{url} shows their former partner"


def test_waitlisted_trainee_gets_no_link_to_what_belongs_to_the_people_taking_part(app):
    world = World.fresh(app)
    for url in (f"/cohorts/{world.cohort.id}", "/dashboard/trainee", "/calendar"):
        response = _page(app, world, "trainee_waitlisted", url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "cohort-in-room" not in html, f"{url} shows the meeting link to the waitlist"
        assert f"/handouts/{world.handout_id}" not in html, f"{url} links a handout for the waitlist"
        assert f"/sessions/{world.cohort.session_ids[0]}/calendar.ics" not in html, url


def test_facilitators_list_only_their_own_cohorts(app):
    from tests.factories import text_of

    world = World.fresh(app)
    for principal, mine, theirs in (
        ("facilitator_in", "Cohort In", "Cohort Out"),
        ("co_facilitator", "Cohort In", "Cohort Out"),
        ("facilitator_out", "Cohort Out", "Cohort In"),
    ):
        for url in ("/cohorts", "/dashboard/facilitator", "/calendar"):
            response = _page(app, world, principal, url)
            assert response.status_code == 200, (principal, url)
            page = text_of(response)
            assert mine in page, (principal, url)
            assert theirs not in page, f"{principal} sees {theirs} on {url}"

