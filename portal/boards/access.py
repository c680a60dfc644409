"""Finding a board, thread or post for an action, as the board route modules share it: another
cohort's object does not exist for this person (404), a visible one they may not act on is 403."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from portal.authz import can, require
from portal.models import Board, Post, Thread
from portal.web import get_or_404, safe_next


def thread_for(thread_id: int, action: str = "read_thread") -> Thread:
    thread = get_or_404(Thread, thread_id)
    if not can(current_user, "read_thread", thread):
        abort(404)  # another cohort's thread does not exist for this person
    require(action, thread)
    return thread


def post_for(post_id: int, action: str) -> Post:
    post = get_or_404(Post, post_id)
    if not can(current_user, "read_post", post):
        abort(404)
    require(action, post)
    return post


def board_for(board_id: int, action: str = "read_board") -> Board:
    board = get_or_404(Board, board_id)
    if not can(current_user, "read_board", board):
        abort(404)
    require(action, board)
    return board


def next_or(default: str) -> str:
    return safe_next(request.values.get("next"), default)
