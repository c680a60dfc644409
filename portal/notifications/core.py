"""The rules of notifications, without Flask requests: who follows what, who is told of a new
post or a mention, the unread count, mail choices (off, immediate, daily digest), the digest
and the signed unsubscribe token. Callers commit.

A person is told only while they may read the board (portal.authz, asked for each person at
the moment of telling), and every list or digest asks again when it is shown or sent, so a
withdrawal, a suspension, a hidden post or a deactivated account stops what they see at once.
"""

from __future__ import annotations

import re
from datetime import datetime

from itsdangerous import BadData, URLSafeSerializer
from markupsafe import escape
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError

from portal import mail
from portal.extensions import db
from portal.models import (
    Board,
    Conversation,
    DirectMessage,
    Follow,
    MailChoice,
    Notification,
    Post,
    Thread,
    User,
    utcnow,
)

MODES = {"off": "Off", "immediate": "Each one as it happens", "digest": "A daily digest (the default)"}
DEFAULT_MODE = "digest"
PAGE_SIZE = 20
DIGEST_MAX = 50
UNSUBSCRIBE_SALT = "notify.unsubscribe"


# --- following --------------------------------------------------------------------------------


def _follow_row(user_id: int, thread_id: int | None = None, board_id: int | None = None):
    query = db.select(Follow).where(Follow.user_id == user_id)
    query = query.where(Follow.thread_id == thread_id) if thread_id else query.where(Follow.board_id == board_id)
    return db.session.execute(query).scalar_one_or_none()


def follows(user_id: int, thread_id: int | None = None, board_id: int | None = None) -> bool:
    return _follow_row(user_id, thread_id, board_id) is not None


def follow(user_id: int, thread_id: int | None = None, board_id: int | None = None) -> bool:
    """True when this is new (safe against a second request doing the same)."""
    if follows(user_id, thread_id, board_id):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Follow(user_id=user_id, thread_id=thread_id, board_id=board_id))
    except IntegrityError:
        return False
    return True


def unfollow(user_id: int, thread_id: int | None = None, board_id: int | None = None) -> bool:
    row = _follow_row(user_id, thread_id, board_id)
    if row is None:
        return False
    db.session.delete(row)
    return True


# --- who may be told --------------------------------------------------------------------------


def reads_board(user: User, board: Board) -> bool:
    from portal.authz import can

    return user.deactivated_at is None and can(user, "read_board", board)


def still_visible(user: User, n: Notification, blocked: set[int] | None = None) -> bool:
    """Whether this person may still see what the notification is about."""
    from portal.authz import can

    if user.deactivated_at is not None:
        return False
    if n.post_id is not None:
        post = db.session.get(Post, n.post_id)
        if post is None or post.removed_at is not None:
            return False
        if n.kind == "moderation":  # about the person's own post: while they read the board
            return reads_board(user, db.session.get(Board, post.board_id))
        return can(user, "read_post", post)
    if n.board_id is not None:
        return reads_board(user, db.session.get(Board, n.board_id))
    if n.conversation_id is not None:
        from portal.messages import core as messages

        conversation = db.session.get(Conversation, n.conversation_id)
        message = db.session.get(DirectMessage, n.message_id) if n.message_id else None
        if blocked is None:
            blocked = messages.blocked_by(user.id)
        return (
            conversation is not None
            and can(user, "read_conversation", conversation)
            and (message is None or (message.author_id not in blocked and message.hidden_at is None))
        )
    return True


# --- mentions ---------------------------------------------------------------------------------

_AT = re.compile(r"(?<![\w@])@(\w[\w'.-]*(?:[ \t]+[\w'.-]+){0,3})")


def _candidates(body: str) -> dict[str, list[int]]:
    """For each @ in the text, the names it might start: '@Peer In 1 hi' -> 'peer', 'peer in',
    'peer in 1', 'peer in 1 hi' (names of up to four words), positions by name."""
    found: dict[str, list[int]] = {}
    for match in _AT.finditer(body or ""):
        words = match.group(1).split()
        for n in range(1, len(words) + 1):
            name = " ".join(words[:n]).rstrip(".'-").lower()
            if name:
                found.setdefault(name, []).append(match.start())
    return found


def mentioned(body: str, board: Board, author: User) -> list[User]:
    """People named with @ who may read the board (never the author). At each @ the longest
    name that is someone's wins; a name of someone who cannot read the board is plain text."""
    names = _candidates(body)
    if not names:
        return []
    people = list(
        db.session.execute(
            db.select(User).where(db.func.lower(User.display_name).in_(list(names)), User.deactivated_at.is_(None))
        ).scalars()
    )
    by_name: dict[str, list[User]] = {}
    for person in people:
        if person.id != author.id and reads_board(person, board):
            by_name.setdefault(person.display_name.lower(), []).append(person)
    chosen: dict[int, User] = {}
    for position in {p for positions in names.values() for p in positions}:
        best = max((name for name in by_name if position in names[name]), key=len, default=None)
        if best is not None:
            chosen.update((person.id, person) for person in by_name[best])
    return list(chosen.values())


def mark_mentions(html: str, people: list[User]) -> str:
    """`@Name` of each person in the post's HTML shown in bold (in text, never inside a tag or
    a link); other @words stay plain text."""
    if not people:
        return html
    names = sorted({str(escape(p.display_name)) for p in people}, key=len, reverse=True)
    pattern = re.compile("(?<![\\w@])@(" + "|".join(re.escape(n) for n in names) + r")(?![\w])", re.IGNORECASE)
    parts = re.split(r"(<[^>]+>)", html)
    depth_a = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            tag = part[1:].split(None, 1)[0].lower().rstrip(">") if len(part) > 2 else ""
            if tag in ("a", "code"):
                depth_a += 1
            elif tag in ("/a", "/code"):
                depth_a = max(depth_a - 1, 0)
            continue
        if depth_a == 0:
            parts[i] = pattern.sub(lambda m: f"<strong>@{m.group(1)}</strong>", part)
    return "".join(parts)


def suggestions(board: Board, body: str, limit: int = 8) -> list[User]:
    """People who may read the board whose name starts with the @word being typed (the last
    one in the text)."""
    match = re.search(r"(?<![\w@])@(\w[\w'.-]*(?: [\w'.-]*)?)$", (body or "")[-80:])
    if not match:
        return []
    prefix = match.group(1).lower().replace("%", "").replace("_", "")
    people = db.session.execute(
        db.select(User)
        .where(db.func.lower(User.display_name).startswith(prefix), User.deactivated_at.is_(None))
        .order_by(User.display_name, User.id)
        .limit(40)
    ).scalars()
    return [p for p in people if reads_board(p, board)][:limit]


# --- telling people ---------------------------------------------------------------------------


def mail_mode(user_id: int) -> str:
    mode = db.session.execute(db.select(MailChoice.mode).where(MailChoice.user_id == user_id)).scalar_one_or_none()
    return mode or DEFAULT_MODE


def set_mail_mode(user_id: int, mode: str) -> bool:
    if mode not in MODES:
        raise ValueError(mode)
    row = db.session.execute(db.select(MailChoice).where(MailChoice.user_id == user_id)).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                row = MailChoice(user_id=user_id, mode=DEFAULT_MODE)
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(db.select(MailChoice).where(MailChoice.user_id == user_id)).scalar_one()
    if row.mode == mode:
        return False
    row.mode, row.changed_at = mode, utcnow()
    if mode != "digest":  # what waited for the digest is not mailed any more
        db.session.execute(
            db.update(Notification)
            .where(Notification.user_id == user_id, Notification.mailed_at.is_(None))
            .values(mailed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def unsubscribe_token(secret: str, user_id: int) -> str:
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"u": user_id})


def user_of_token(secret: str, token: str) -> int | None:
    try:
        data = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadData:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def _mail_headers(user_id: int) -> tuple[str, dict[str, str]]:
    from flask import current_app

    from portal.web import external_url

    link = external_url("notifications.unsubscribe", notify_token=unsubscribe_token(current_app.secret_key, user_id))
    return link, {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _link_of(n: Notification) -> str:
    from portal.web import external_url

    if n.conversation_id:
        return external_url("messages.conversation", conversation_id=n.conversation_id)
    if n.post_id:  # the page of the thread that shows the post, at the post
        from portal.boards.pages import post_location

        post = db.session.get(Post, n.post_id)
        if post is not None:
            return external_url("boards.thread", **post_location(db.session.get(User, n.user_id), post))
    if n.thread_id:
        return external_url("boards.thread", thread_id=n.thread_id)
    if n.board_id:
        return external_url("boards.board", board_id=n.board_id)
    return external_url("notifications.index")


def notify(user: User, kind: str, summary: str, *, actor: User | None = None, post: Post | None = None,
           thread: Thread | None = None, board: Board | None = None, conversation=None, message=None) -> Notification:
    """One notification, mailed at once for people who chose "immediate"."""
    now = utcnow()
    mode = mail_mode(user.id)
    n = Notification(
        user_id=user.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        post_id=post.id if post else None,
        thread_id=thread.id if thread else (post.thread_id if post else None),
        board_id=board.id if board else (post.board_id if post else None),
        conversation_id=conversation.id if conversation else None,
        message_id=message.id if message else None,
        summary=summary[:300],
        created_at=now,
        mailed_at=None if mode == "digest" else now,
    )
    db.session.add(n)
    db.session.flush()
    if mode == "immediate":
        unsubscribe, headers = _mail_headers(user.id)
        mail.send(
            user.email,
            summary[:200],
            "mail/notification.txt",
            headers=headers,
            name=user.display_name,
            summary=summary,
            link=_link_of(n),
            unsubscribe=unsubscribe,
        )
    return n


def _title(thread: Thread) -> str:
    return f"“{thread.title}”"


def deliver_post(post: Post, thread: Thread, board: Board, author: User) -> None:
    """A shown post: its author follows the thread; people it mentions (who read the board) are
    told of the mention, the thread's and the board's followers of a new post."""
    follow(author.id, thread_id=thread.id)
    told = {author.id}
    for person in mentioned(post.body, board, author):
        notify(person, "mention", f"{author.display_name} mentioned you in {_title(thread)}", actor=author, post=post)
        told.add(person.id)
    follower_ids = set(
        db.session.execute(
            db.select(Follow.user_id).where(or_(Follow.thread_id == thread.id, Follow.board_id == board.id))
        ).scalars()
    ) - told
    if not follower_ids:
        return
    first = thread.last_post_id in (0, post.id) and post.id == _first_post_id(thread.id)
    verb = "started" if first else "replied in"
    for person in db.session.execute(db.select(User).where(User.id.in_(follower_ids)).order_by(User.id)).scalars():
        if reads_board(person, board):
            notify(person, "reply", f"{author.display_name} {verb} {_title(thread)} on {board.title}", actor=author,
                   post=post)


def _first_post_id(thread_id: int) -> int:
    return db.session.execute(db.select(db.func.min(Post.id)).where(Post.thread_id == thread_id)).scalar_one()


def mentions_added(post: Post, thread: Thread, board: Board, author: User) -> None:
    """After an edit: people newly mentioned are told (once per post)."""
    already = set(
        db.session.execute(
            db.select(Notification.user_id).where(Notification.post_id == post.id, Notification.kind == "mention")
        ).scalars()
    )
    for person in mentioned(post.body, board, author):
        if person.id not in already:
            notify(person, "mention", f"{author.display_name} mentioned you in {_title(thread)}", actor=author,
                   post=post)


def moderation_notice(post: Post, thread: Thread, board: Board, by: User | None, what: str) -> None:
    author = db.session.get(User, post.author_id)
    if by is not None and by.id == author.id:
        return
    notify(author, "moderation", f"{what} in {_title(thread)} on {board.title}", actor=None, post=post)


# --- reading ----------------------------------------------------------------------------------


def _unread_query(user_id: int):
    return db.select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))


def _visible(user: User, rows: list[Notification]) -> list[Notification]:
    """The rows the person may still see: their posts are loaded in one query first (held
    here, so still_visible finds them in the session), boards and rights are cached per
    request by portal.authz."""
    from portal.messages import core as messages

    held: list = []
    for model, ids in (
        (Post, {n.post_id for n in rows if n.post_id}),
        (Conversation, {n.conversation_id for n in rows if n.conversation_id}),
        (DirectMessage, {n.message_id for n in rows if n.message_id}),
    ):
        if ids:
            held += db.session.execute(db.select(model).where(model.id.in_(ids))).scalars()
    conversation_ids = {n.conversation_id for n in rows if n.conversation_id}
    blocked = set()
    if conversation_ids:
        from portal.authz import know_memberships

        blocked = messages.blocked_by(user.id)
        know_memberships(user, conversation_ids)
    shown = [n for n in rows if still_visible(user, n, blocked)]
    del held
    return shown


def unread_count(user: User) -> int:
    """Unread notifications the person may still see: one statement, built once (every
    page's navigation shows it), the rule of still_visible in SQL (authz)."""
    from portal.authz import unread_notifications_count

    if user.deactivated_at is not None:
        return 0
    statement, parameters = unread_notifications_count(user)
    return db.session.execute(statement, parameters).scalar_one()


def page(user: User, before: int | None) -> tuple[list[Notification], int | None]:
    """Newest first, those the person may still see; `before` an id (keyset)."""
    query = db.select(Notification).where(Notification.user_id == user.id)
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(db.session.execute(query.order_by(Notification.id.desc()).limit(PAGE_SIZE + 1)).scalars())
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return _visible(user, rows[:PAGE_SIZE]), next_before


def mark_all_read(user: User) -> int:
    return db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def open_target(user: User, n: Notification) -> str | None:
    """Mark it read; the page it is about (None when the person may no longer see it)."""
    if n.read_at is None:
        n.read_at = utcnow()
    if not still_visible(user, n):
        return None
    from flask import url_for

    if n.conversation_id:
        return url_for("messages.conversation", conversation_id=n.conversation_id)
    if n.post_id:
        from portal.boards.pages import post_url

        post = db.session.get(Post, n.post_id)
        if post is not None:
            return post_url(user, post)
    if n.thread_id:
        return url_for("boards.thread", thread_id=n.thread_id)
    if n.board_id:
        return url_for("boards.board", board_id=n.board_id)
    return None


# --- the daily digest ---------------------------------------------------------------------------


def send_digests(now: datetime | None = None) -> int:
    """One mail per person on the daily digest with notifications not yet mailed and not yet
    read: only those they may still see now. Everything looked at is marked mailed. Returns
    the number of mails written (committed per person)."""
    now = now or utcnow()
    sent = 0
    user_ids = list(
        db.session.execute(db.select(Notification.user_id).where(Notification.mailed_at.is_(None)).distinct()).scalars()
    )
    for user_id in sorted(user_ids):
        user = db.session.get(User, user_id)
        rows = list(
            db.session.execute(
                db.select(Notification)
                .where(Notification.user_id == user_id, Notification.mailed_at.is_(None))
                .order_by(Notification.id.desc())
            ).scalars()
        )
        shown = []
        if mail_mode(user_id) == "digest" and user.deactivated_at is None:
            shown = [n for n in rows if n.read_at is None and still_visible(user, n)][:DIGEST_MAX]
        if shown:
            unsubscribe, headers = _mail_headers(user_id)
            mail.send(
                user.email,
                f"Your daily digest: {len(shown)} new on the peer support boards",
                "mail/notification_digest.txt",
                headers=headers,
                name=user.display_name,
                items=[(n.summary, _link_of(n)) for n in shown],
                unsubscribe=unsubscribe,
            )
            sent += 1
        db.session.execute(
            db.update(Notification)
            .where(Notification.id.in_([n.id for n in rows]))
            .values(mailed_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return sent
