"""What the board pages read: a page of threads and a page of posts by keyset, the count of
new replies, the moderation queue. A fixed number of queries whatever the size of a board."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import or_

from portal.authz import moderated_boards, shown_posts_clause
from portal.boards.posting import PAGE_SIZE
from portal.extensions import db
from portal.models import Board, BoardTopic, Post, PostReport, PostRevision, Thread, User
from portal.web import say_here

PINNED_MAX = 20


@dataclass
class ThreadPage:
    pinned: list
    threads: list
    next_before: int | None


def thread_page(
    board: Board, before: int | None, user=None, moderator: bool = True, topic_id: int | None = None
) -> ThreadPage:
    """Pinned threads first (on the first page), then the others by latest activity; `before`
    is the activity id (Thread.last_post_id) of the last thread already shown. A thread whose
    opening post is hidden or waiting is listed only for its author and the moderators;
    `topic_id` keeps the threads of one topic."""
    base = (
        db.select(
            Thread.id,
            Thread.title,
            Thread.reply_count,
            Thread.last_post_at,
            Thread.last_post_id,
            Thread.pinned,
            Thread.locked_at,
            Thread.opening_shown,
            User.display_name.label("author_name"),
            BoardTopic.name.label("topic_name"),
        )
        .join(User, User.id == Thread.author_id)
        .outerjoin(BoardTopic, BoardTopic.id == Thread.topic_id)
        .where(Thread.board_id == board.id)
    )
    if not moderator:
        base = base.where(or_(Thread.opening_shown.is_(True), Thread.author_id == user.id))
    if topic_id is not None:
        base = base.where(Thread.topic_id == topic_id)
    pinned = []
    if before is None:
        pinned = db.session.execute(
            base.where(Thread.pinned.is_(True)).order_by(Thread.last_post_id.desc()).limit(PINNED_MAX)
        ).all()
    query = base.where(Thread.pinned.is_(False))
    if before is not None:
        query = query.where(Thread.last_post_id < before)
    rows = db.session.execute(query.order_by(Thread.last_post_id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ThreadPage(pinned, rows, rows[-1].last_post_id if more else None)


@dataclass
class PostPage:
    posts: list[Post]
    revisions: dict[int, list[PostRevision]]
    last_id: int
    more: bool


def post_page(user, thread: Thread, after: int | None, moderator: bool) -> PostPage:
    """Posts in order after `after` (a post id), those this person may see."""
    query = db.select(Post).where(Post.thread_id == thread.id, shown_posts_clause(user, thread.board))
    if after is not None:
        query = query.where(Post.id > after)
    posts = list(db.session.execute(query.order_by(Post.id).limit(PAGE_SIZE + 1)).scalars())
    more = len(posts) > PAGE_SIZE
    posts = posts[:PAGE_SIZE]
    revisions: dict[int, list[PostRevision]] = {}
    edited = [p.id for p in posts if p.edited_at is not None]
    if moderator and edited:
        for rev in db.session.execute(
            db.select(PostRevision).where(PostRevision.post_id.in_(edited)).order_by(PostRevision.id)
        ).scalars():
            revisions.setdefault(rev.post_id, []).append(rev)
    last_id = posts[-1].id if posts else (after or 0)
    return PostPage(posts, revisions, last_id, more)


def new_reply_count(user, thread: Thread, seen: int) -> int:
    """Posts by others after `seen` that this person may see."""
    return db.session.execute(
        db.select(db.func.count(Post.id)).where(
            Post.thread_id == thread.id,
            Post.id > seen,
            Post.author_id != user.id,
            shown_posts_clause(user, thread.board),
        )
    ).scalar_one()


def queue(user) -> list:
    """Posts with open reports, crisis flags or waiting for approval, on the boards this
    person moderates (oldest first)."""
    mine = moderated_boards(user)
    open_reports = db.select(PostReport.post_id).where(PostReport.resolved_at.is_(None))
    posts = list(
        db.session.execute(
            db.select(Post)
            .where(
                Post.board_id.in_(mine),
                or_(
                    Post.id.in_(open_reports),
                    Post.pending.is_(True),
                    Post.crisis_flagged_at.is_not(None) & Post.crisis_reviewed_at.is_(None),
                ),
            )
            .order_by(Post.id)
            .limit(200)
        ).scalars()
    )
    reports: dict[int, list] = {}
    boards: dict[int, str] = {}
    if posts:
        for r in db.session.execute(
            db.select(PostReport.post_id, PostReport.reason, User.display_name)
            .join(User, User.id == PostReport.reporter_id)
            .where(PostReport.post_id.in_([p.id for p in posts]), PostReport.resolved_at.is_(None))
            .order_by(PostReport.id)
        ):
            reports.setdefault(r.post_id, []).append(r)
        boards = {
            row.id: row.title
            for row in db.session.execute(
                db.select(Board.id, Board.title).where(Board.id.in_({p.board_id for p in posts}))
            )
        }
    return [(p, reports.get(p.id, []), boards.get(p.board_id, "")) for p in posts]


# --- the poll's ticket: an idle poll answered with two statements ---------------------------------
# The thread page (read after the full check) gives its poll a ticket: this person, this
# thread, when, signed with the app's key. While the ticket is fresh, a poll whose thread has
# nothing after `seen` is answered 204 after reading the session and the thread's version
# alone. A 204 says nothing the person did not know (no content, no count), and anything new
# goes through the full check first, so a person who lost the board (withdrawn, suspended) is
# refused the moment there is something to see; a deactivated account is refused at once.

TICKET_SECONDS = 30 * 60


def _ticket_mac(user_id: int, thread_id: int, issued: int) -> str:
    import hashlib
    import hmac

    from flask import current_app

    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    message = f"board-poll:{user_id}:{thread_id}:{issued}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def poll_ticket(user_id: int, thread_id: int) -> str:
    import time

    issued = int(time.time())
    return f"{issued}.{_ticket_mac(user_id, thread_id, issued)}"


def ticket_ok(ticket: str | None, user_id: int, thread_id: int) -> bool:
    import hmac
    import time

    issued, _, mac = (ticket or "").partition(".")
    if not issued.isdigit() or len(issued) > 12 or not mac:
        return False
    if not 0 <= time.time() - int(issued) <= TICKET_SECONDS:
        return False
    return hmac.compare_digest(mac, _ticket_mac(user_id, thread_id, int(issued)))


@functools.cache
def _version_query():
    """Built once (the poll asks every few seconds per open thread): parameter `tid`."""
    from sqlalchemy import Integer, bindparam

    return db.select(Thread.last_post_id).where(Thread.id == bindparam("tid", type_=Integer))


def thread_version(thread_id: int) -> int | None:
    return db.session.execute(_version_query(), {"tid": thread_id}).scalar_one_or_none()


# --- a message next to the control that was used (kept over the 303 of a plain request) ---------


def notice(place: str, message: str, kind: str = "success") -> None:
    """The answer to a board action, next to its control (`place_message(place)` in the
    template; redirect to #<place>-message): see web.say_here."""
    say_here(place, message, kind)


def post_location(user, post: Post) -> dict:
    """The url_for values of the thread page that shows this post to `user`, at its message
    (#post-<id>-message): a post past the first page of its thread is on the page that starts
    with it, so the anchor exists on the page a link or a redirect lands on. Also for mail."""
    board = db.session.get(Board, post.board_id)
    before, previous = db.session.execute(
        db.select(db.func.count(Post.id), db.func.max(Post.id)).where(
            Post.thread_id == post.thread_id, Post.id < post.id, shown_posts_clause(user, board)
        )
    ).one()
    values = {"thread_id": post.thread_id, "_anchor": f"post-{post.id}-message"}
    if before >= PAGE_SIZE:
        values["after"] = previous
    return values


def post_url(user, post: Post, **args) -> str:
    return url_for("boards.thread", **{**post_location(user, post), **args})


def move_choices(user, thread: Thread) -> list:
    """Boards this person moderates that the thread may move to (posting.move_refusal): none
    for a pair's or a cohort's thread."""
    from wtforms import SelectChoice

    from portal.boards.posting import move_refusal
    from portal.models import BoardKind

    if thread.board.kind != BoardKind.COMMUNITY:
        return []
    boards = db.session.execute(
        db.select(Board)
        .where(Board.id.in_(moderated_boards(user)), Board.kind != BoardKind.DYAD.value, Board.id != thread.board_id)
        .order_by(Board.title)
    ).scalars()
    return [SelectChoice(b.id, b.title) for b in boards if move_refusal(thread, b) is None]
