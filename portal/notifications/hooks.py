"""The one door from the boards' write path (portal.boards.posting) into notifications and
search: `post_changed(post, event, ...)` after a post is written, edited, approved, hidden,
shown again or removed, and `thread_moved(thread)`. Each keeps the search index in step and
tells whoever should be told; nothing here commits (the boards' caller does)."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Board, Post, Thread, User
from portal.notifications import core
from portal.search import index


def post_changed(post: Post, event: str, by: User | None = None, reason: str | None = None) -> None:
    """event: written | edited | approved | hidden | unhidden | removed."""
    db.session.flush()
    thread = db.session.get(Thread, post.thread_id)
    board = db.session.get(Board, post.board_id)
    author = db.session.get(User, post.author_id)
    if event in ("written", "edited"):
        people = core.mentioned(post.body, board, author)
        post.body_html = core.mark_mentions(post.body_html, people)
    index.index_post(post)
    if event == "written":
        if post.pending:  # told once a moderator approves it
            core.follow(author.id, thread_id=thread.id)
        else:
            core.deliver_post(post, thread, board, author)
    elif event == "approved":
        core.deliver_post(post, thread, board, author)
    elif event == "edited" and not post.pending:
        core.mentions_added(post, thread, board, author)
    elif event == "hidden":
        core.moderation_notice(post, thread, board, by, f"A moderator hid your post ({reason})" if reason else
                               "A moderator hid your post")


def thread_moved(thread: Thread) -> None:
    index.move_thread(thread)
