"""Who may do what: the one place routes and templates ask.

`can(user, action, obj)` answers for one object; `visible_*` and `current_enrollment` scope
list queries, so no route or template filters by hand. Routes call `require(action, obj)`
(also for pages that need only a role: `require("dashboard", "admin")`), which aborts with
403 when the answer is no.

Places in a cohort: an *enrolled* trainee takes part (sessions, meeting links, handouts,
partner); a *waitlisted* one sees only that they wait and the cohort's dates; a *withdrawn*
one no longer sees the cohort at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, g, has_app_context
from flask_login import current_user
from sqlalchemy import case, event, or_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload, lazyload
from werkzeug.local import LocalProxy

from portal.extensions import db
from portal.models import (
    Cohort,
    CohortFacilitator,
    CohortSession,
    Dyad,
    Enrollment,
    EnrollmentStatus,
    Handout,
    Role,
    User,
)
from portal.models.base import UTCDateTime

# Answers kept for one request (whether someone facilitates a cohort, their place in it) hold
# until the request changes something: a commit forgets them, so a check after a change in the
# same request or app context (a command, a job) reads again.
_PER_REQUEST = ("_facilitates", "_enrollment_status")


@event.listens_for(Session, "after_commit")
def _forget_request_answers(session) -> None:
    if has_app_context():
        for key in _PER_REQUEST:
            g.pop(key, None)


def _is(user, role: Role) -> bool:
    return bool(user) and user.is_authenticated and user.has_role(role)


def is_admin(user) -> bool:
    return _is(user, Role.ADMIN)


def facilitates(user, cohort: Cohort) -> bool:
    if not _is(user, Role.FACILITATOR):
        return False
    if "facilitator_links" not in sa_inspect(cohort).unloaded:  # the page has them already
        return any(link.user_id == user.id for link in cohort.facilitator_links)
    # Else one small query per cohort and request, not the links with each facilitator's account.
    cache = g.setdefault("_facilitates", {})
    key = (user.id, cohort.id)
    if key not in cache:
        found = db.session.execute(_place_statements()[0], {"cohort_id": cohort.id, "uid": user.id}).first()
        cache[key] = found is not None
    return cache[key]


@functools.cache
def _place_statements():
    """Built once (checked on most cohort pages): whether person `uid` facilitates cohort
    `cohort_id`, and their enrolment status in it."""
    from sqlalchemy import Integer, bindparam

    uid, cohort_id = bindparam("uid", type_=Integer), bindparam("cohort_id", type_=Integer)
    return (
        db.select(CohortFacilitator.id).where(
            CohortFacilitator.cohort_id == cohort_id, CohortFacilitator.user_id == uid
        ),
        db.select(Enrollment.status).where(Enrollment.cohort_id == cohort_id, Enrollment.user_id == uid),
    )


def enrollment_status(user, cohort: Cohort) -> str | None:
    """The person's place in the cohort (enrolled, waitlisted, withdrawn) or None; one query
    per cohort and request."""
    return enrollment_status_in(user, cohort.id)


def enrollment_status_in(user, cohort_id: int) -> str | None:
    """enrollment_status by the cohort's id (without loading the cohort)."""
    cache = g.setdefault("_enrollment_status", {})
    key = (user.id, cohort_id)
    if key not in cache:
        parameters = {"cohort_id": cohort_id, "uid": user.id}
        cache[key] = db.session.execute(_place_statements()[1], parameters).scalar_one_or_none()
    return cache[key]


def takes_part(user, cohort: Cohort) -> bool:
    """Enrolled: the person's sessions, links, handouts and partner are theirs to see."""
    return enrollment_status(user, cohort) == EnrollmentStatus.ENROLLED.value


def waits_for(user, cohort: Cohort) -> bool:
    return enrollment_status(user, cohort) == EnrollmentStatus.WAITLISTED.value


def _view_cohort(u, cohort: Cohort) -> bool:
    """The cohort page: its people, and waitlisted trainees (who see only their place and
    the dates)."""
    return is_admin(u) or facilitates(u, cohort) or takes_part(u, cohort) or waits_for(u, cohort)


def _take_part(u, cohort: Cohort) -> bool:
    """What belongs to the people of the cohort: sessions, meeting links, handouts, pairs."""
    return is_admin(u) or facilitates(u, cohort) or takes_part(u, cohort)


def _enrolled_anywhere(u) -> bool:
    cache = g.setdefault("_enrolled_anywhere", {})
    if u.id not in cache:
        cache[u.id] = (
            db.session.execute(
                db.select(Enrollment.id)
                .where(Enrollment.user_id == u.id, Enrollment.status == EnrollmentStatus.ENROLLED.value)
                .limit(1)
            ).first()
            is not None
        )
    return cache[u.id]


def _manage_cohort(u, cohort: Cohort) -> bool:
    return is_admin(u) or facilitates(u, cohort)


def _download_handout(u, handout: Handout) -> bool:
    if handout.removed_at is not None:
        return is_admin(u)
    if handout.cohort_id is None:  # a programme handout: everyone taking part anywhere
        return is_admin(u) or _is(u, Role.FACILITATOR) or _enrolled_anywhere(u)
    return _take_part(u, db.session.get(Cohort, handout.cohort_id))


def _view_dyad(u, dyad: Dyad) -> bool:
    """A dyad's private thread: its members while they take part in the cohort (people who
    left a dyad keep reading what was written while they were in it; a withdrawn trainee
    reads nothing), and the cohort's facilitators (boards issue)."""
    cohort = db.session.get(Cohort, dyad.cohort_id)
    if facilitates(u, cohort):
        return True
    return any(m.user_id == u.id for m in dyad.members) and takes_part(u, cohort)


def _remove_handout(u, handout: Handout) -> bool:
    if handout.cohort_id is None:
        return is_admin(u)
    return _manage_cohort(u, db.session.get(Cohort, handout.cohort_id))


# action -> rule(user, obj) -> bool
RULES: dict[str, Callable[[User, object], bool]] = {
    "manage_users": lambda u, o: is_admin(u),
    # A signed-in person's own details, password, calendar and start page: everyone active.
    "own_account": lambda u, o: u.is_active,
    "dashboard": lambda u, role: _is(u, Role(role)),
    "create_cohort": lambda u, o: is_admin(u),
    "list_cohorts": lambda u, o: is_admin(u) or _is(u, Role.FACILITATOR),
    "administer_cohort": lambda u, cohort: is_admin(u),
    "view_cohort": _view_cohort,
    "manage_cohort": _manage_cohort,
    "take_part": _take_part,
    "view_session": lambda u, session: _take_part(u, session.cohort),
    "reschedule_session": lambda u, session: _manage_cohort(u, session.cohort),
    "download_handout": _download_handout,
    "remove_handout": _remove_handout,
    "add_programme_handout": lambda u, o: is_admin(u),
    "view_dyad": _view_dyad,
}



def _uid(user):
    """A person's id for a query: a user's id, or an id itself (or a bind parameter, for a
    statement built once)."""
    return getattr(user, "id", user)


def _facilitated_ids(user):
    return db.select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == _uid(user))


def _enrolled_ids(user, statuses=(EnrollmentStatus.ENROLLED,)):
    # Equalities rather than IN (...): a list of values is a parameter SQLAlchemy expands on
    # every execution, which costs more than the query on the hot, cached statements.
    return db.select(Enrollment.cohort_id).where(
        Enrollment.user_id == _uid(user), or_(*(Enrollment.status == s.value for s in statuses))
    )


def visible_cohorts(user):
    """A query of the cohorts this person may open (admins: all)."""
    query = db.select(Cohort)
    if is_admin(user):
        return query
    taking_part = _enrolled_ids(user, (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED))
    return query.where(or_(Cohort.id.in_(_facilitated_ids(user)), Cohort.id.in_(taking_part)))


def session_scope(user):
    """SQL condition on CohortSession: the sessions a person facilitates or takes part in
    (enrolled, not waitlisted or withdrawn). Pages that read only a few columns build on it."""
    return or_(
        CohortSession.cohort_id.in_(_facilitated_ids(user)),
        CohortSession.cohort_id.in_(_enrolled_ids(user)),
    )


def visible_sessions(user) -> list[CohortSession]:
    """The person's sessions (session_scope), in time order: their calendar and feed."""
    return list(db.session.execute(_visible_sessions_statement(), {"uid": user.id}).scalars())


@functools.cache
def _visible_sessions_statement():
    """Built once, the person as parameter `uid`."""
    from sqlalchemy import Integer, bindparam

    return (
        db.select(CohortSession)
        # Each session's cohort (name, zone) in the same query.
        .options(joinedload(CohortSession.cohort))
        .where(session_scope(bindparam("uid", type_=Integer)))
        .order_by(CohortSession.starts_at)
    )


def current_places(user) -> list[tuple[str, Cohort]]:
    """(status, cohort) of the person's places that are not withdrawn, newest first."""
    # unique(): the sessions come joined, one row per session.
    rows = db.session.execute(_places_statement(), {"uid": user.id}).unique().all()
    return [(status, cohort) for status, cohort in rows]


@functools.cache
def _places_statement():
    """Built once (every trainee page asks): the person is parameter `uid`."""
    from sqlalchemy import Integer, bindparam

    return (
        db.select(Enrollment.status, Cohort)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .options(joinedload(Cohort.sessions))  # the dashboard's next session, of each cohort
        .where(
            Enrollment.user_id == bindparam("uid", type_=Integer),
            Enrollment.status != EnrollmentStatus.WITHDRAWN.value,
        )
        .order_by(Enrollment.added_at.desc(), Enrollment.id.desc())
    )


def current_enrollment(user) -> Enrollment | None:
    """The enrolment a trainee's pages are about (the cohort of current_cohort), or None."""
    cohort = current_cohort(current_places(user))
    if cohort is None:
        return None
    return db.session.execute(
        db.select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.cohort_id == cohort.id)
    ).scalar_one()


def current_cohort(places: list[tuple[str, Cohort]], now=None) -> Cohort | None:
    """The cohort a trainee's dashboard is about: the newest enrolled one not archived."""
    from portal.models import CohortStatus

    return next(
        (
            cohort
            for status, cohort in places
            if status == EnrollmentStatus.ENROLLED.value and cohort.current_status(now) != CohortStatus.ARCHIVED
        ),
        None,
    )


def session_of(session_id: int) -> CohortSession:
    session = db.session.get(CohortSession, session_id)
    if session is None:
        abort(404)
    return session


def can(user, action: str, obj: object = None) -> bool:
    if isinstance(user, LocalProxy):  # current_user: the rules read the person many times
        user = user._get_current_object()
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"unknown action {action!r}")
    return bool(rule(user, obj))


def require(action: str, obj: object = None) -> None:
    if not can(current_user, action, obj):
        abort(403)


# --- attendance ----------------------------------------------------------------------------------
# A make-up guest (accepted request for one session of another cohort) takes part in that one
# session only: its live page and check-in, never the other cohort's roster, board or pairs.


def _makeup_guest(u, session) -> bool:
    from portal.attendance import makeups
    from portal.models import MakeupRequest

    cache = g.setdefault("_makeup_guest", {})
    key = (u.id, session.id)
    if key not in cache:
        cache[key] = (
            db.session.execute(
                db.select(MakeupRequest.id).where(
                    MakeupRequest.user_id == u.id,
                    MakeupRequest.host_session_id == session.id,
                    makeups.standing(),  # accepted, while they still take part in their own cohort
                )
            ).first()
            is not None
        )
    return cache[key]


def _attends(u, session) -> bool:
    """On the session's roll as a trainee: enrolled in its cohort, or an accepted make-up."""
    # By the cohort's id: a check-in (200 at once) never loads the cohort with its sessions.
    enrolled = enrollment_status_in(u, session.cohort_id) == EnrollmentStatus.ENROLLED.value
    return _is(u, Role.TRAINEE) and (enrolled or _makeup_guest(u, session))


def _request_makeup(u, host) -> bool:
    """A trainee with a place in another cohort asks to join this session (not their own)."""
    if not _is(u, Role.TRAINEE) or _take_part(u, host.cohort):
        return False
    own = current_enrollment(u)
    return own is not None and own.cohort_id != host.cohort_id
# --- exams ---------------------------------------------------------------------------------------
# The written test. An offering is a chance to take it (a cohort's window now); an attempt
# belongs to a person and an offering. Only enrolled trainees of the offering's cohort take it;
# its facilitators open it, see attempts and analysis, grant attempts; admins run the item bank.


def _offering_cohort(offering):
    return db.session.get(Cohort, offering.cohort_id) if offering.cohort_id else None


def _take_exam(u, offering) -> bool:
    """Enrolled in the offering's cohort (one small query, cached per request; the cohort
    itself is not loaded: an autosave asks this on every answer)."""
    if offering.cohort_id is None:
        return False
    cache = g.setdefault("_enrollment_status", {})
    key = (u.id, offering.cohort_id)
    if key not in cache:
        cache[key] = db.session.execute(
            db.select(Enrollment.status).where(Enrollment.cohort_id == offering.cohort_id, Enrollment.user_id == u.id)
        ).scalar_one_or_none()
    return cache[key] == EnrollmentStatus.ENROLLED.value


def _manage_offering(u, offering) -> bool:
    cohort = _offering_cohort(offering)
    return is_admin(u) or (cohort is not None and facilitates(u, cohort))


def _answer_attempt(u, attempt) -> bool:
    """Only the person's own attempt, while they still take part in its offering."""
    return attempt.user_id == u.id and _take_exam(u, attempt.offering)


def _view_attempt(u, attempt) -> bool:
    return _answer_attempt(u, attempt) or _manage_offering(u, attempt.offering)
# --- assessment ---------------------------------------------------------------------------------


def _mark_oral_exam(u, exam) -> bool:
    """A sitting of the oral exam is run by the facilitators of its session's cohort (and admins)."""
    return _manage_cohort(u, exam.session.cohort)


def _supervises(u, trainee) -> bool:
    """The trainee's current supervisor (an open supervision row), never the trainee themselves."""
    from portal.assessment.competencies import supervises

    trainee_id = getattr(trainee, "id", trainee)
    return _is(u, Role.SUPERVISOR) and supervises(u.id, trainee_id)


RULES.update(
    {
        "view_live": lambda u, session: _take_part(u, session.cohort) or _attends(u, session),
        "check_in": _attends,
        "take_roll": lambda u, session: _manage_cohort(u, session.cohort),
        "view_attendance": lambda u, cohort: _manage_cohort(u, cohort),
        "view_progress": lambda u, o: _is(u, Role.TRAINEE),
        "request_makeup": _request_makeup,
        "decide_makeup": lambda u, request_: _manage_cohort(u, request_.host_session.cohort),
        "give_feedback": _attends,
        "view_feedback": lambda u, cohort: _manage_cohort(u, cohort),
        "attendance_settings": lambda u, o: is_admin(u),
    }
)
RULES.update(
    {
        "manage_item_bank": lambda u, o: is_admin(u),
        "list_exams": lambda u, o: _is(u, Role.TRAINEE) or _is(u, Role.FACILITATOR) or is_admin(u),
        "manage_exams": _manage_cohort,  # a cohort: open the test for it
        "manage_offering": _manage_offering,
        "take_exam": _take_exam,
        "answer_attempt": _answer_attempt,
        # The same rule on an exams.attempts.AnswerState (the autosave's one query: the
        # attempt's owner and that person's place in the offering's cohort).
        "save_answers": lambda u, state: state.user_id == u.id and state.enrollment == EnrollmentStatus.ENROLLED.value,
        "view_attempt": _view_attempt,
        "manage_checklists": lambda u, o: is_admin(u),
        "open_oral_exam": lambda u, session: _manage_cohort(u, session.cohort),
        "mark_oral_exam": _mark_oral_exam,
        "view_assessment": _manage_cohort,  # a cohort's exams and pending confirmations
        "own_assessment": lambda u, o: _is(u, Role.TRAINEE),
        "supervise": lambda u, o: _is(u, Role.SUPERVISOR),
        # Only a current supervisor answers for competencies: not the trainee, not a facilitator.
        "confirm_competencies": _supervises,
    }
)


def visible_offerings(user):
    """A query of the offerings this person takes part in (enrolled) or runs (admins: all)."""
    from portal.models import Offering

    query = db.select(Offering)
    if is_admin(user):
        return query
    return query.where(
        or_(Offering.cohort_id.in_(_facilitated_ids(user)), Offering.cohort_id.in_(_enrolled_ids(user)))
    )
# --- cohorts ux ---------------------------------------------------------------------------------


def _view_progress(u, trainee: User) -> bool:
    """A trainee's progress page: the trainee, their current supervisor, the facilitators of
    a cohort they are enrolled in, admins."""
    from portal.models import Supervision

    if is_admin(u) or u.id == trainee.id:
        return True
    if (
        _is(u, Role.SUPERVISOR)
        and db.session.execute(
            db.select(Supervision.id).where(
                Supervision.supervisor_id == u.id, Supervision.trainee_id == trainee.id, Supervision.ended_at.is_(None)
            )
        ).first()
    ):
        return True
    return _is(u, Role.FACILITATOR) and (
        db.session.execute(
            db.select(Enrollment.id).where(
                Enrollment.user_id == trainee.id,
                Enrollment.status == EnrollmentStatus.ENROLLED.value,
                Enrollment.cohort_id.in_(_facilitated_ids(u)),
            )
        ).first()
        is not None
    )


RULES["view_trainee_progress"] = _view_progress
def visible_supervisees(user):
    """A query of the users this person supervises now (open supervision rows)."""
    from portal.models import Supervision as Supervision_

    return (
        db.select(User)
        .join(Supervision_, Supervision_.trainee_id == User.id)
        .where(Supervision_.supervisor_id == user.id, Supervision_.ended_at.is_(None))
        .order_by(User.display_name, User.id)
    )

# --- boards ---------------------------------------------------------------------------------
# Who reads and writes the peer networking boards (portal/boards). Every answer is read from
# the database on each request (cached for the request only), so a withdrawal, a deactivation
# or a suspension takes effect on the next request.
#   community board: admins, facilitators, and everyone enrolled in a cohort (graduates stay
#                    enrolled, so they stay); moderated by admins
#   cohort board:    the cohort's enrolled trainees and facilitators, admins; moderated by
#                    the cohort's facilitators and admins
#   dyad board:      the dyad's members while they take part in the cohort, and the cohort's
#                    facilitators, who moderate it. Admins do not read dyad boards: what a
#                    pair writes is for the pair and the people who run their training.
# A person suspended from a board neither reads nor writes it until the suspension ends.
# Hidden posts and posts waiting for approval are read only by the board's moderators and
# their author.

from portal.models import Board, BoardKind, BoardSuspension, Post, Thread, utcnow  # noqa: E402


def board_suspended(user, board: Board) -> bool:
    cache = g.setdefault("_board_suspended", {})
    if user.id not in cache:
        cache[user.id] = set(
            db.session.execute(
                db.select(BoardSuspension.board_id).where(
                    BoardSuspension.user_id == user.id,
                    BoardSuspension.lifted_at.is_(None),
                    BoardSuspension.until > utcnow(),
                )
            ).scalars()
        )
    return board.id in cache[user.id]


def _held(model, ident):
    """One load per request: the session's identity map holds objects weakly, so checks run
    for every post of a page would otherwise load the same cohort again and again."""
    cache = g.setdefault("_board_rows", {})
    key = (model.__name__, ident)
    if key not in cache:
        # Only the row: what a check needs of its relationships loads when it is read (a
        # trainee's check never reads a cohort's sessions or facilitators).
        cache[key] = db.session.get(model, ident, options=[lazyload("*")])
    return cache[key]


def _board_cohort(board: Board) -> Cohort:
    return _held(Cohort, board.cohort_id)


def _board_dyad(board: Board) -> Dyad:
    return _held(Dyad, board.dyad_id)


def _read_board(u, board: Board) -> bool:
    if board_suspended(u, board):
        return False
    if board.kind == BoardKind.COMMUNITY:
        return is_admin(u) or _is(u, Role.FACILITATOR) or _enrolled_anywhere(u)
    if board.kind == BoardKind.COHORT:
        return _take_part(u, _board_cohort(board))
    return _view_dyad(u, _board_dyad(board))


def moderates(u, board: Board) -> bool:
    if board.kind == BoardKind.COMMUNITY:
        return is_admin(u)
    cohort = _board_cohort(board)
    if board.kind == BoardKind.COHORT:
        return is_admin(u) or facilitates(u, cohort)
    return facilitates(u, cohort)


def _post_on_board(u, board: Board) -> bool:
    if not _read_board(u, board):
        return False
    if board.kind == BoardKind.DYAD:  # people who left the pair read, but no longer write
        return moderates(u, board) or any(m.user_id == u.id for m in _board_dyad(board).current_members)
    return True


def _reply(u, thread: Thread) -> bool:
    return thread.locked_at is None and _post_on_board(u, thread.board)


def _read_thread(u, thread: Thread) -> bool:
    """A thread whose opening post is hidden or waits for approval is, title and all, for its
    author and the board's moderators only."""
    if not _read_board(u, thread.board):
        return False
    return thread.opening_shown or thread.author_id == u.id or moderates(u, thread.board)


def post_shown(u, post: Post, board: Board) -> bool:
    """Hidden and waiting posts: their author and the board's moderators only."""
    if post.hidden_at is None and not post.pending:
        return True
    return post.author_id == u.id or moderates(u, board)


def _board_of(post: Post) -> Board:
    return _held(Board, post.board_id)


def _read_post(u, post: Post) -> bool:
    board = _board_of(post)
    return _read_board(u, board) and post_shown(u, post, board) and _read_thread(u, _held(Thread, post.thread_id))


def _edit_post(u, post: Post) -> bool:
    thread = _held(Thread, post.thread_id)
    return (
        post.author_id == u.id
        and post.removed_at is None
        and post.hidden_at is None
        and thread.locked_at is None
        and _post_on_board(u, _board_of(post))
    )


def _report_post(u, post: Post) -> bool:
    return post.author_id != u.id and post.removed_at is None and _read_post(u, post)


def _moderate_post(u, post: Post) -> bool:
    board = _board_of(post)
    return moderates(u, board) and _read_board(u, board)


RULES.update(
    {
        "use_boards": lambda u, o: is_admin(u) or _is(u, Role.FACILITATOR) or _is(u, Role.TRAINEE),
        "read_board": _read_board,
        "post_on_board": _post_on_board,
        "moderate_board": lambda u, board: moderates(u, board) and _read_board(u, board),
        "read_thread": _read_thread,
        "reply_thread": _reply,
        "moderate_thread": lambda u, thread: moderates(u, thread.board) and _read_board(u, thread.board),
        "read_post": _read_post,
        "edit_post": _edit_post,
        "remove_post": _edit_post,
        "report_post": _report_post,
        "moderate_post": _moderate_post,
        "moderation_queue": lambda u, o: is_admin(u) or _is(u, Role.FACILITATOR),
        "edit_board_texts": lambda u, o: is_admin(u),
    }
)


def visible_boards(user):
    """A query of the boards this person reads (community first, then cohorts, then pairs)."""
    from sqlalchemy import false

    if not getattr(user, "is_authenticated", False):
        return db.select(Board).where(false())
    admin = is_admin(user)
    community = admin or _is(user, Role.FACILITATOR) or _enrolled_anywhere(user)
    return (
        db.select(Board)
        .where(_reads_board_clause(user.id, admin, community, utcnow()))
        .order_by(
            case((Board.kind == BoardKind.COMMUNITY.value, 0), (Board.kind == BoardKind.COHORT.value, 1), else_=2),
            Board.title,
            Board.id,
        )
    )


def _reads_board_clause(uid, admin: bool, community: bool, now):
    """SQL condition on Board: read by person `uid` (an id or a bind parameter) who is or is
    not an admin and reads or does not read the community board, at `now` (suspensions)."""
    from sqlalchemy import and_, false, true

    from portal.models import DyadMember

    facilitated = _facilitated_ids(uid)
    enrolled = _enrolled_ids(uid)
    my_dyads = db.select(DyadMember.dyad_id).where(DyadMember.user_id == uid)
    suspended = db.select(BoardSuspension.board_id).where(
        BoardSuspension.user_id == uid, BoardSuspension.lifted_at.is_(None), BoardSuspension.until > now
    )
    return and_(
        or_(
            and_(Board.kind == BoardKind.COMMUNITY.value, true() if community else false()),
            and_(
                Board.kind == BoardKind.COHORT.value,
                true() if admin else or_(Board.cohort_id.in_(facilitated), Board.cohort_id.in_(enrolled)),
            ),
            and_(
                Board.kind == BoardKind.DYAD.value,
                or_(
                    Board.cohort_id.in_(facilitated),
                    and_(Board.dyad_id.in_(my_dyads), Board.cohort_id.in_(enrolled)),
                ),
            ),
        ),
        Board.id.not_in(suspended),
    )


def moderated_boards(user):
    """A query of the ids of the boards this person moderates (their moderation queue)."""
    return _moderated_boards(user.id, is_admin(user))


def _moderated_boards(uid, admin: bool):
    return db.select(Board.id).where(_moderates_board_clause(uid, admin))


def _moderates_board_clause(uid, admin: bool):
    """SQL condition on Board: moderated by person `uid` (an id or a bind parameter)."""
    from sqlalchemy import false

    admin_boards = Board.kind.in_([BoardKind.COMMUNITY.value, BoardKind.COHORT.value]) if admin else false()
    return or_(admin_boards, Board.cohort_id.in_(_facilitated_ids(uid)))


def shown_posts_clause(user, board: Board):
    """The SQL condition for the posts of a board this person sees (moderators: all)."""
    from sqlalchemy import true

    if moderates(user, board):
        return true()
    return or_((Post.hidden_at.is_(None) & Post.pending.is_(False)), Post.author_id == user.id)


# --- attendance (att: the roll's idle poll) ---------------------------------------------------------
RULES.update(
    {
        # A roll.PollState read for this very user in one query (no session or cohort loaded).
        "poll_roll": lambda u, state: is_admin(u) or (_is(u, Role.FACILITATOR) and state.facilitates),
    }
)


# --- boards: topic categories of the community board (portal/boards/topics.py) -----------------
# Admins create, rename, retire and restore them; whoever reads the board files a new thread
# under an open topic and filters by topic; its moderators refile a thread (moderate_thread).


def _manage_topics(u, board: Board) -> bool:
    return board.kind == BoardKind.COMMUNITY and is_admin(u) and _read_board(u, board)


def _manage_topic(u, topic) -> bool:
    return _manage_topics(u, _held(Board, topic.board_id))


RULES.update(
    {
        "manage_board_topics": _manage_topics,
        "manage_board_topic": _manage_topic,
    }
)


# --- certification ---------------------------------------------------------------------------------
# A certificate is seen by its holder, admins, the facilitators of its cohort and the holder's
# current supervisor; only admins revoke or reissue it. A facilitator of the cohort (or an admin)
# approves one, never for themselves; supervisors never approve. /verify is public (no rule).


def _view_certificate(u, cert) -> bool:
    if is_admin(u) or cert.user_id == u.id:
        return True
    if facilitates(u, _held(Cohort, cert.cohort_id)):
        return True
    return _supervises(u, cert.user_id)


def _approve_certificate(u, target) -> bool:
    cohort, trainee = target
    return trainee.id != u.id and _manage_cohort(u, cohort)


RULES.update(
    {
        "own_certification": lambda u, o: _is(u, Role.TRAINEE),
        "certification_choices": lambda u, cohort: _is(u, Role.TRAINEE) and takes_part(u, cohort),
        "view_certificate": _view_certificate,
        "manage_certificate": lambda u, cert: is_admin(u),
        "view_cohort_certification": _manage_cohort,
        "approve_certificate": _approve_certificate,
        "certification_settings": lambda u, cohort: is_admin(u),
        "view_celebration": _take_part,
    }
)


# --- notify (issue 13): notifications, search, directory, direct messages --------------------
# Notifications are their owner's alone; following a thread or a board needs reading it.
# Search, the directory and direct messages are for the people of the boards (trainees,
# facilitators, admins). A direct message thread is read by its members only: admins read a
# message only once it is reported to them (the reports page), never a thread itself.


def _member_of(u, conversation) -> bool:
    from portal.models import ConversationMember

    cache = g.setdefault("_dm_member", {})
    key = (u.id, conversation.id)
    if key not in cache:
        cache[key] = (
            db.session.execute(
                db.select(ConversationMember.id).where(
                    ConversationMember.conversation_id == conversation.id, ConversationMember.user_id == u.id
                )
            ).first()
            is not None
        )
    return cache[key]


def unread_notifications_count(user):
    """The statement counting `user`'s unread notifications they may still see, and its
    parameters: built once for each combination of what the person is (admin; reads the
    community board; uses messages), run with their id and the time."""
    community = is_admin(user) or _is(user, Role.FACILITATOR) or _enrolled_anywhere(user)
    statement = _unread_notifications_statement(is_admin(user), community, _connects(user))
    return statement, {"uid": user.id, "now": utcnow()}


def navigation_counts(user):
    """The statement giving, in one row, the navigation's two numbers for `user`: unread
    notifications they may still see (`unread`) and, for those who use messages, conversations
    with a message they have not seen (`messages`; portal.messages.core), with its parameters."""
    community = is_admin(user) or _is(user, Role.FACILITATOR) or _enrolled_anywhere(user)
    statement = _navigation_statement(is_admin(user), community, _connects(user))
    return statement, {"uid": user.id, "now": utcnow()}


@functools.cache
def _navigation_statement(admin: bool, community: bool, connects: bool):
    from sqlalchemy import literal

    from portal.messages.core import unread_conversations_statement

    unread = _unread_notifications_statement(admin, community, connects).scalar_subquery()
    messages = unread_conversations_statement().scalar_subquery() if connects else literal(0)
    return db.select(unread.label("unread"), messages.label("messages"))


@functools.cache
def _unread_notifications_statement(admin: bool, community: bool, connects: bool):
    from sqlalchemy import Integer, bindparam, func

    from portal.models import Notification

    uid = bindparam("uid", type_=Integer)
    now = bindparam("now", type_=UTCDateTime)
    return db.select(func.count(Notification.id)).where(
        Notification.user_id == uid,
        Notification.read_at.is_(None),
        _shown_notifications_clause(uid, admin, community, connects, now),
    )


def _shown_notifications_clause(uid, admin: bool, community: bool, connects: bool, now):
    """SQL condition on Notification: what it is about is still readable by person `uid`
    (the rule of notifications.core.still_visible, to count them in one statement): a post
    that is not removed on a board the person reads, shown to them in a thread shown to them
    (a moderation notice: only the board); a board they read; a conversation of theirs with a
    message by someone they have not blocked, not removed by the programme team; anything
    else."""
    from sqlalchemy import and_, exists, false, true

    from portal.models import Block, ConversationMember, DirectMessage, Notification

    n = Notification

    # "This board is one they read / moderate", asked of one board by its primary key: a list
    # of every board they read would scan the boards table (one per pair) for each use.
    def reads(board_id):
        return exists(db.select(Board.id).where(Board.id == board_id, _reads_board_clause(uid, admin, community, now)))

    def moderates(board_id):
        return exists(db.select(Board.id).where(Board.id == board_id, _moderates_board_clause(uid, admin)))

    post_readable = exists(
        db.select(Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(
            Post.id == n.post_id,
            Post.removed_at.is_(None),
            reads(Post.board_id),
            or_(
                n.kind == "moderation",
                and_(
                    or_(
                        and_(Post.hidden_at.is_(None), Post.pending.is_(False)),
                        Post.author_id == uid,
                        moderates(Post.board_id),
                    ),
                    or_(Thread.opening_shown.is_(True), Thread.author_id == uid, moderates(Post.board_id)),
                ),
            ),
        )
    )
    member = exists(
        db.select(ConversationMember.id).where(
            ConversationMember.conversation_id == n.conversation_id, ConversationMember.user_id == uid
        )
    )
    blocked = db.select(Block.id).where(Block.blocked_id == DirectMessage.author_id, Block.blocker_id == uid)
    message_gone = exists(  # by someone they blocked, or removed by the programme team
        db.select(DirectMessage.id).where(
            DirectMessage.id == n.message_id, or_(DirectMessage.hidden_at.is_not(None), blocked.exists())
        )
    )
    conversation_readable = and_(true() if connects else false(), member, ~message_gone)
    return or_(
        and_(n.post_id.is_not(None), post_readable),
        and_(n.post_id.is_(None), n.board_id.is_not(None), reads(n.board_id)),
        and_(n.post_id.is_(None), n.board_id.is_(None), n.conversation_id.is_not(None), conversation_readable),
        and_(n.post_id.is_(None), n.board_id.is_(None), n.conversation_id.is_(None)),
    )


CONNECTING_ROLES = (Role.ADMIN, Role.TRAINEE, Role.FACILITATOR)


def know_memberships(u, conversation_ids) -> None:
    """Answer _member_of for these conversations with one query (a page that checks many:
    the notifications' list and count)."""
    from portal.models import ConversationMember

    cache = g.setdefault("_dm_member", {})
    wanted = {i for i in conversation_ids if (u.id, i) not in cache}
    if not wanted:
        return
    mine = set(
        db.session.execute(
            db.select(ConversationMember.conversation_id).where(
                ConversationMember.user_id == u.id, ConversationMember.conversation_id.in_(wanted)
            )
        ).scalars()
    )
    for conversation_id in wanted:
        cache[(u.id, conversation_id)] = conversation_id in mine


def _connects(u) -> bool:
    return any(_is(u, role) for role in CONNECTING_ROLES)


def message_candidates(u):
    """Whom this person may start a direct message with (one rule for one person and for the
    list of a new conversation): someone else, listed in the directory, on an active account
    that could use messages. Blocks are the messages core's business (portal.messages.core):
    a person one blocked is left out of one's list there, and being blocked is never shown."""
    from portal.models import DirectoryEntry, UserRole

    listed = db.select(DirectoryEntry.id).where(DirectoryEntry.user_id == User.id, DirectoryEntry.listed.is_(True))
    connects = db.select(UserRole.id).where(
        UserRole.user_id == User.id, UserRole.role.in_([r.value for r in CONNECTING_ROLES])
    )
    return db.select(User).where(
        User.id != u.id,
        User.activated_at.is_not(None),
        User.deactivated_at.is_(None),
        listed.exists(),
        connects.exists(),
    )


def _message_person(u, person) -> bool:
    """Start a direct message with this person: message_candidates' rule, for one."""
    return (
        _connects(u)
        and person is not None
        and db.session.execute(message_candidates(u).with_only_columns(User.id).where(User.id == person.id)).first()
        is not None
    )


def _has_report(message) -> bool:
    from portal.models import MessageReport

    reports = db.select(MessageReport.id).where(MessageReport.message_id == message.id)
    return db.session.execute(reports).first() is not None


RULES.update(
    {
        "own_notifications": lambda u, o: u.is_active,
        "open_notification": lambda u, n: n.user_id == u.id,
        "follow_thread": lambda u, thread: _read_board(u, thread.board),
        "follow_board": _read_board,
        "mention_in_board": _post_on_board,
        "search_posts": lambda u, o: _connects(u),
        "use_directory": lambda u, o: _connects(u),
        "message_person": _message_person,
        "use_messages": lambda u, o: _connects(u),
        "read_conversation": lambda u, c: _connects(u) and _member_of(u, c),
        "write_conversation": lambda u, c: _connects(u) and _member_of(u, c),
        "report_message": lambda u, m: m.author_id != u.id and _connects(u) and _member_of(u, m.conversation),
        "review_message_reports": lambda u, o: is_admin(u),
        # Admins act on a message only once someone reported it (they never read the others).
        "handle_message_report": lambda u, m: is_admin(u) and _has_report(m),
    }
)
