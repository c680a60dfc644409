"""The rules of the boards, without Flask requests: boards for cohorts and dyads, threads
and posts, edits with history, crisis phrases, rate limits, links from new accounts waiting
for approval, reports and moderation. Callers commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, update

from portal import audit, mail
from portal.extensions import db
from portal.markup import render_markdown
from portal.models import (
    Board,
    BoardConsent,
    BoardKind,
    BoardSuspension,
    BoardText,
    Cohort,
    CohortFacilitator,
    Dyad,
    Post,
    PostReport,
    PostRevision,
    Role,
    Thread,
    User,
    UserRole,
    utcnow,
)

# At most this many posts per person in RATE_WINDOW (threads and replies together).
RATE_LIMIT = 8
RATE_WINDOW = timedelta(minutes=10)
# A person with fewer approved posts than this is "new": their posts with links wait.
NEW_ACCOUNT_POSTS = 3
PAGE_SIZE = 20

DEFAULT_TEXTS = {
    "guidelines": (
        "Be kind and assume good intent. Share your own experience, not other people's stories. "
        "No advertising. Disagree with ideas, never with people. Moderators may hide posts that "
        "break these guidelines and will tell you why."
    ),
    "consent": (
        "Who reads what you write: a cohort board is read by the trainees enrolled in your cohort "
        "and its facilitators; the community board by every trainee, graduate and facilitator of "
        "the programme; a pair's thread by the two (or three) of you and your facilitators. "
        "Moderators can see earlier versions of edited posts. Do not share anything about a "
        "person you support."
    ),
    "crisis_resources": (
        "If you are thinking about suicide or are worried about your safety, you are not alone. "
        "In the US, call or text **988** (the 988 Suicide & Crisis Lifeline), or chat at "
        "https://988lifeline.org. If you are in immediate danger, call 911. The people who look "
        "after this board (your facilitator, or the programme team) have been told so they can "
        "check in with you."
    ),
    "crisis_phrases": "\n".join(
        [
            "kill myself",
            "killing myself",
            "end my life",
            "want to die",
            "suicide",
            "suicidal",
            "hurt myself",
            "self harm",
            "self-harm",
            "no reason to live",
        ]
    ),
}
TEXT_KEYS = tuple(DEFAULT_TEXTS)


class BoardError(Exception):
    """A change refused for a reason the person can act on (shown next to the control)."""


# --- boards ---------------------------------------------------------------------------------


def community_board() -> Board:
    board = db.session.execute(db.select(Board).where(Board.kind == BoardKind.COMMUNITY.value)).scalar_one_or_none()
    if board is None:
        board = Board(
            kind=BoardKind.COMMUNITY.value,
            title="Community board",
            description="Everyone who trains or trained with the programme, and the facilitators.",
        )
        db.session.add(board)
        db.session.flush()
    return board


def cohort_board(cohort: Cohort) -> Board:
    community_board()  # the first cohort brings the community board along
    board = db.session.execute(
        db.select(Board).where(Board.kind == BoardKind.COHORT.value, Board.cohort_id == cohort.id)
    ).scalar_one_or_none()
    if board is None:
        board = Board(
            kind=BoardKind.COHORT.value,
            title=f"{cohort.name} board",
            description="Your cohort's trainees and facilitators.",
            cohort_id=cohort.id,
        )
        db.session.add(board)
        db.session.flush()
    return board


def dyad_board(dyad: Dyad) -> Board:
    board = db.session.execute(db.select(Board).where(Board.dyad_id == dyad.id)).scalar_one_or_none()
    if board is None:
        ids = [m.user_id for m in dyad.members]
        names = " & ".join(sorted(db.session.execute(db.select(User.display_name).where(User.id.in_(ids))).scalars()))
        board = Board(
            kind=BoardKind.DYAD.value,
            title=f"Practice pair: {names}",
            description="Your practice pair and your facilitators.",
            cohort_id=dyad.cohort_id,
            dyad_id=dyad.id,
        )
        db.session.add(board)
        db.session.flush()
    return board


def ensure_boards() -> None:
    """Boards for the community, every cohort and every active dyad (idempotent)."""
    community_board()
    have_cohorts = set(
        db.session.execute(db.select(Board.cohort_id).where(Board.kind == BoardKind.COHORT.value)).scalars()
    )
    for cohort in db.session.execute(db.select(Cohort).where(Cohort.id.not_in(have_cohorts or {0}))).scalars():
        cohort_board(cohort)
    have_dyads = set(db.session.execute(db.select(Board.dyad_id).where(Board.dyad_id.is_not(None))).scalars())
    for dyad in db.session.execute(
        db.select(Dyad).where(Dyad.dissolved_at.is_(None), Dyad.id.not_in(have_dyads or {0}))
    ).scalars():
        dyad_board(dyad)


def moderators_of(board: Board) -> list[User]:
    """Who is told about crisis flags: the cohort's facilitators (cohort and dyad boards), the
    admins (community board)."""
    if board.kind == BoardKind.COMMUNITY:
        query = db.select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == Role.ADMIN.value)
    else:
        query = (
            db.select(User)
            .join(CohortFacilitator, CohortFacilitator.user_id == User.id)
            .where(CohortFacilitator.cohort_id == board.cohort_id)
        )
    return list(db.session.execute(query.where(User.deactivated_at.is_(None))).scalars().unique())


# --- texts and consent ------------------------------------------------------------------------


def text(key: str) -> str:
    row = db.session.execute(db.select(BoardText).where(BoardText.key == key)).scalar_one_or_none()
    return row.value if row is not None else DEFAULT_TEXTS[key]


def texts() -> dict[str, str]:
    rows = {r.key: r.value for r in db.session.execute(db.select(BoardText)).scalars()}
    return {key: rows.get(key, default) for key, default in DEFAULT_TEXTS.items()}


def consent_version() -> int:
    versions = db.session.execute(
        db.select(BoardText.version).where(BoardText.key.in_(("guidelines", "consent")))
    ).scalars()
    return max(versions, default=1)


def has_consented(user: User) -> bool:
    return (
        db.session.execute(
            db.select(BoardConsent.id).where(BoardConsent.user_id == user.id, BoardConsent.version >= consent_version())
        ).first()
        is not None
    )


def accept(user: User) -> None:
    version = consent_version()
    exists = db.session.execute(
        db.select(BoardConsent.id).where(BoardConsent.user_id == user.id, BoardConsent.version == version)
    ).first()
    if exists is None:
        db.session.add(BoardConsent(user_id=user.id, version=version))


def set_text(key: str, value: str, by: User) -> None:
    row = db.session.execute(db.select(BoardText).where(BoardText.key == key)).scalar_one_or_none()
    if row is None:
        row = BoardText(key=key, value=DEFAULT_TEXTS[key], version=1)
        db.session.add(row)
    if row.value == value:
        return
    if key in ("guidelines", "consent"):
        row.version = consent_version() + 1  # everyone reads and accepts the new text
    row.value = value
    row.updated_at = utcnow()
    row.updated_by_id = by.id
    audit.record(by, "board.text_changed", row, key=key, version=row.version)


# --- what a post holds ------------------------------------------------------------------------

_LINK = re.compile(r"(https?://|www\.|mailto:|\]\s*\(|<[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
_FOLD = re.compile(r"[^a-z0-9]+")


def has_link(body: str) -> bool:
    return bool(_LINK.search(body or ""))


def _fold(value: str) -> str:
    """Lower case, every run of other characters one space: 'Kill  my-self!' -> 'kill my self'."""
    return " " + _FOLD.sub(" ", (value or "").lower()).strip() + " "


def crisis_phrases() -> list[str]:
    return [line.strip() for line in text("crisis_phrases").splitlines() if line.strip()]


def matches_crisis(body: str, phrases: list[str]) -> bool:
    folded = _fold(body)
    return any(_fold(p).strip() and _fold(p) in folded for p in phrases)


def _approved_posts(user: User) -> int:
    return db.session.execute(
        db.select(db.func.count(Post.id)).where(
            Post.author_id == user.id, Post.pending.is_(False), Post.hidden_at.is_(None)
        )
    ).scalar_one()


def check_rate(user: User, now: datetime) -> None:
    recent = db.session.execute(
        db.select(db.func.count(Post.id)).where(Post.author_id == user.id, Post.created_at > now - RATE_WINDOW)
    ).scalar_one()
    if recent >= RATE_LIMIT:
        minutes = int(RATE_WINDOW.total_seconds() // 60)
        raise BoardError(
            f"You have posted {recent} times in the last {minutes} minutes. Please wait a few minutes "
            "and send it again (your text is kept below)."
        )


@dataclass
class Posted:
    post: Post
    crisis: bool


def already_posted(author: User, client_key: str | None) -> Post | None:
    """The post this person already sent with this form (its idempotency key), if any: a form
    sent twice (a double click, a retry after the connection dropped) makes one post."""
    if not client_key:
        return None
    return db.session.execute(
        db.select(Post).where(Post.author_id == author.id, Post.client_key == client_key)
    ).scalar_one_or_none()


def _add_post(
    thread: Thread, board: Board, author: User, body: str, now: datetime, client_key: str | None = None
) -> Posted:
    check_rate(author, now)
    moderator = _moderates(author, board)
    pending = not moderator and has_link(body) and _approved_posts(author) < NEW_ACCOUNT_POSTS
    opening = not thread.last_post_id
    post = Post(
        thread_id=thread.id,
        board_id=board.id,
        author_id=author.id,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
        pending=pending,
        client_key=client_key or None,
    )
    db.session.add(post)
    db.session.flush()
    if opening and pending:
        thread.opening_shown = False
    db.session.execute(
        db.update(Thread)
        .where(Thread.id == thread.id)
        .values(
            last_post_id=case((Thread.last_post_id < post.id, post.id), else_=Thread.last_post_id),
            last_post_at=now,
            # replies everyone sees: not the opening post, not one waiting for approval
            reply_count=Thread.reply_count + (0 if opening or pending else 1),
        )
        .execution_options(synchronize_session=False)
    )
    crisis = _check_crisis(post, board, thread, now)
    _notify(post, "written")  # notify: search index, followers, mentions
    return Posted(post, crisis)


def _notify(post: Post, event: str, **details) -> None:
    """Keep search and notifications in step (portal.notifications.hooks, issue 13)."""
    from portal.notifications.hooks import post_changed

    post_changed(post, event, **details)


def _moderates(user: User, board: Board) -> bool:
    from portal.authz import moderates

    return moderates(user, board)


def _check_crisis(post: Post, board: Board, thread: Thread, now: datetime) -> bool:
    """A crisis phrase flags the post to the board's moderators at once (queue and mail); the
    post is not blocked. The mail names the board and links the post, never its words."""
    if not matches_crisis(post.body, crisis_phrases()):
        return False
    if post.crisis_flagged_at is None:
        post.crisis_flagged_at = now
        from portal.boards.pages import post_location
        from portal.web import external_url

        for person in moderators_of(board):
            link = external_url("boards.thread", **post_location(person, post))
            mail.send(
                person.email,
                "A post on the boards may need you now",
                "mail/board_crisis.txt",
                name=person.display_name,
                board=board.title,
                link=link,
            )
        audit.record(None, "board.crisis_flagged", post, board_id=board.id)
    return True


def start_thread(
    board: Board, author: User, title: str, body: str, client_key: str | None = None, topic_id: int | None = None
) -> Posted:
    """`topic_id`: one of the board's open topics (portal.boards.topics.open_topics), checked by
    the caller's form."""
    now = utcnow()
    thread = Thread(
        board_id=board.id, title=title, author_id=author.id, created_at=now, last_post_at=now, topic_id=topic_id
    )
    db.session.add(thread)
    db.session.flush()
    return _add_post(thread, board, author, body, now, client_key)


def reply(thread: Thread, author: User, body: str, client_key: str | None = None) -> Posted:
    if thread.locked_at is not None:
        raise BoardError("This thread is locked: it takes no more replies.")
    return _add_post(thread, thread.board, author, body, utcnow(), client_key)


def edit(post: Post, body: str) -> bool:
    """A new version; the earlier one is kept for moderators. Returns whether it now matches a
    crisis phrase."""
    if body == post.body:
        return False
    now = utcnow()
    was_shown = _shown(post)
    db.session.add(PostRevision(post_id=post.id, body=post.body, written_at=post.edited_at or post.created_at))
    post.body, post.body_html, post.edited_at = body, str(render_markdown(body)), now
    board = db.session.get(Board, post.board_id)
    if not post.pending and not _moderates(post.author, board) and has_link(body):
        if _approved_posts(post.author) <= NEW_ACCOUNT_POSTS:
            post.pending = True
    _visibility_changed(post, was_shown)
    crisis = _check_crisis(post, board, db.session.get(Thread, post.thread_id), now)
    _notify(post, "edited")  # notify: search index, new mentions
    return crisis


def remove(post: Post) -> None:
    if post.removed_at is None:
        post.removed_at = utcnow()
        _notify(post, "removed")  # notify: out of the search index


def report(post: Post, reporter: User, reason: str) -> bool:
    """False when this person had already reported the post."""
    exists = db.session.execute(
        db.select(PostReport.id).where(PostReport.post_id == post.id, PostReport.reporter_id == reporter.id)
    ).first()
    if exists is not None:
        return False
    db.session.add(PostReport(post_id=post.id, board_id=post.board_id, reporter_id=reporter.id, reason=reason))
    return True


# --- moderation (every action in the audit log) ---------------------------------------------------


def _shown(post: Post) -> bool:
    """Seen by everyone who reads the board (not hidden, not waiting for approval)."""
    return post.hidden_at is None and not post.pending


def _visibility_changed(post: Post, was_shown: bool) -> None:
    """Keep the thread's counters to what everyone sees: a hidden or waiting reply is not
    counted; a hidden or waiting opening post hides the thread itself (its title too)."""
    now_shown = _shown(post)
    if now_shown == was_shown:
        return
    opening = db.session.execute(db.select(db.func.min(Post.id)).where(Post.thread_id == post.thread_id)).scalar_one()
    values = (
        {"opening_shown": now_shown}
        if post.id == opening
        else {"reply_count": Thread.reply_count + (1 if now_shown else -1)}
    )
    update = db.update(Thread).where(Thread.id == post.thread_id).values(**values)
    db.session.execute(update.execution_options(synchronize_session="fetch"))


def hide(post: Post, by: User, reason: str) -> None:
    was_shown = _shown(post)
    post.hidden_at, post.hidden_by_id, post.hidden_reason = utcnow(), by.id, reason
    _resolve_reports(post, by)
    _visibility_changed(post, was_shown)
    audit.record(by, "board.post_hidden", post, board_id=post.board_id, reason=reason)
    _notify(post, "hidden", by=by, reason=reason)  # notify: out of search, a notice to the author


def unhide(post: Post, by: User) -> None:
    was_shown = _shown(post)
    post.hidden_at = post.hidden_by_id = post.hidden_reason = None
    _visibility_changed(post, was_shown)
    audit.record(by, "board.post_unhidden", post, board_id=post.board_id)
    _notify(post, "unhidden")  # notify: back in the search index


def approve(post: Post, by: User) -> None:
    was_shown = _shown(post)
    post.pending, post.approved_at = False, utcnow()
    _visibility_changed(post, was_shown)
    audit.record(by, "board.post_approved", post, board_id=post.board_id)
    _notify(post, "approved")  # notify: search index, followers, mentions


def dismiss(post: Post, by: User) -> None:
    """Reports and the crisis flag looked at, the post left as it is."""
    _resolve_reports(post, by)
    if post.crisis_flagged_at is not None and post.crisis_reviewed_at is None:
        post.crisis_reviewed_at = utcnow()
    audit.record(by, "board.flags_dismissed", post, board_id=post.board_id)


def _resolve_reports(post: Post, by: User) -> None:
    now = utcnow()
    db.session.execute(
        db.update(PostReport)
        .where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if post.crisis_flagged_at is not None and post.crisis_reviewed_at is None:
        post.crisis_reviewed_at = now


def set_locked(thread: Thread, locked: bool, by: User) -> None:
    thread.locked_at = utcnow() if locked else None
    audit.record(by, "board.thread_locked" if locked else "board.thread_unlocked", thread, board_id=thread.board_id)


def set_pinned(thread: Thread, pinned: bool, by: User) -> None:
    thread.pinned = pinned
    audit.record(by, "board.thread_pinned" if pinned else "board.thread_unpinned", thread, board_id=thread.board_id)


def move_refusal(thread: Thread, to: Board) -> str | None:
    """Why this thread may not move to `to`, or None. What people wrote is read only by the
    people they wrote it for, so a move never widens who reads it and never leaves a writer
    out of their own thread: a pair's threads stay with the pair, a cohort's with the
    cohort; a community thread moves to a cohort's board only when everyone who wrote in it
    reads that board."""
    from portal.authz import can

    if BoardKind.DYAD in (thread.board.kind, to.kind):
        return "Threads of a practice pair stay on the pair's board."
    if to.id == thread.board_id:
        return "The thread is on that board already."
    if thread.board.kind == BoardKind.COHORT:
        return "A cohort's threads stay on its board: its people wrote them for each other."
    writers = db.session.execute(db.select(Post.author_id).where(Post.thread_id == thread.id).distinct()).scalars()
    for writer_id in writers:
        writer = db.session.get(User, writer_id)
        if writer is None or not can(writer, "read_board", to):
            return "Not everyone who wrote in this thread reads that board: it would leave them out of it."
    return None


def move(thread: Thread, to: Board, by: User) -> None:
    """Only between boards the moderator moderates, as move_refusal allows; the thread's
    starter is told where it went."""
    refusal = move_refusal(thread, to)
    if refusal:
        raise BoardError(refusal)
    was = thread.board_id
    thread.board_id = to.id
    thread.topic_id = None  # a topic belongs to its board
    db.session.execute(
        db.update(Post)
        .where(Post.thread_id == thread.id)
        .values(board_id=to.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        db.update(PostReport)
        .where(PostReport.post_id.in_(db.select(Post.id).where(Post.thread_id == thread.id)))
        .values(board_id=to.id)
        .execution_options(synchronize_session=False)
    )
    audit.record(by, "board.thread_moved", thread, from_board=was, to_board=to.id)
    from portal.notifications.hooks import thread_moved

    thread_moved(thread)  # notify: search entries follow the thread
    starter = db.session.get(User, thread.author_id)
    if starter is not None and starter.id != by.id:
        from portal.notifications.core import notify

        notify(starter, "moderation", f"Your thread “{thread.title}” was moved to {to.title}", thread=thread,
               board=to)


def suspend(board: Board, user: User, days: int, reason: str, by: User) -> BoardSuspension:
    row = BoardSuspension(
        board_id=board.id,
        user_id=user.id,
        until=utcnow() + timedelta(days=days),
        reason=reason,
        created_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(by, "board.user_suspended", row, board_id=board.id, user_id=user.id, days=days, reason=reason)
    return row


def kept_off(board: Board) -> list:
    """The suspensions of this board still running, soonest to end first: rows of id, the
    person's name, until, reason and who suspended them (for its moderators)."""
    from sqlalchemy.orm import aliased

    person, moderator = aliased(User), aliased(User)
    return db.session.execute(
        db.select(
            BoardSuspension.id,
            person.display_name.label("name"),
            BoardSuspension.until,
            BoardSuspension.reason,
            moderator.display_name.label("by_name"),
        )
        .join(person, person.id == BoardSuspension.user_id)
        .outerjoin(moderator, moderator.id == BoardSuspension.created_by_id)
        .where(
            BoardSuspension.board_id == board.id,
            BoardSuspension.lifted_at.is_(None),
            BoardSuspension.until > utcnow(),
        )
        .order_by(BoardSuspension.until, BoardSuspension.id)
    ).all()


def lift(row: BoardSuspension, by: User) -> bool:
    """End a running suspension now: the person reads and writes the board again and is told
    so. False (and nothing done) when it had already ended or been lifted: a second click, or
    two moderators at once, lift it and tell the person once."""
    now = utcnow()
    lifted = db.session.execute(
        update(BoardSuspension)
        .where(BoardSuspension.id == row.id, BoardSuspension.lifted_at.is_(None), BoardSuspension.until > now)
        .values(lifted_at=now)
    ).rowcount
    if not lifted:
        return False
    db.session.refresh(row)
    board = db.session.get(Board, row.board_id)
    person = db.session.get(User, row.user_id)
    audit.record(by, "board.suspension_lifted", row, board_id=board.id, user_id=person.id)
    from portal.notifications.core import notify

    notify(person, "moderation", f"Your break from {board.title} has ended: you can read and post there again.",
           board=board)
    return True
