"""Finding a board, thread or post for an action, as the board route modules share it: another
cohort's object does not exist for this person (404), a visible one they may not act on is 403."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from portal import errors
from portal.authz import can, require
from portal.extensions import db
from portal.models import Board, BoardSuspension, Post, Thread, utcnow
from portal.templating import localtime
from portal.web import get_or_404, safe_next


def kept_off(board_id: int) -> None:
    """Someone a moderator suspended from this board is told so, and until when (403), rather
    than finding the board gone: the board's existence is no secret to them."""
    if not getattr(current_user, "is_authenticated", False):
        return
    until = db.session.execute(
        db.select(db.func.max(BoardSuspension.until)).where(
            BoardSuspension.board_id == board_id,
            BoardSuspension.user_id == current_user.id,
            BoardSuspension.lifted_at.is_(None),
            BoardSuspension.until > utcnow(),
        )
    ).scalar_one()
    if until is not None:
        abort(
            errors.page(
                403,
                "You are taking a break from this board",
                f"A moderator has paused your access to this board until {localtime(until)}. Your other "
                "boards and messages work as usual. If you want to talk about it, ask your facilitator "
                "or the programme team.",
            )
        )


def thread_for(thread_id: int, action: str = "read_thread") -> Thread:
    thread = get_or_404(Thread, thread_id)
    if not can(current_user, "read_thread", thread):
        kept_off(thread.board_id)
        abort(404)  # another cohort's thread does not exist for this person
    require(action, thread)
    return thread


def post_for(post_id: int, action: str) -> Post:
    post = get_or_404(Post, post_id)
    if not can(current_user, "read_post", post):
        kept_off(post.board_id)
        abort(404)
    require(action, post)
    return post


def board_for(board_id: int, action: str = "read_board") -> Board:
    board = get_or_404(Board, board_id)
    if not can(current_user, "read_board", board):
        kept_off(board.id)
        abort(404)
    require(action, board)
    return board


def next_or(default: str) -> str:
    return safe_next(request.values.get("next"), default)
