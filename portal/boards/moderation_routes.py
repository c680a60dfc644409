"""Moderation (hide, approve, lock, pin, move, suspend, the queue), the guidelines to accept
before a first post, and the admin-set texts. Every moderation action is in the audit log."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required

from portal import inputs
from portal.authz import board_suspended, can, require
from portal.boards import bp, pages, posting
from portal.boards.access import board_for, next_or, post_for, thread_for
from portal.boards.forms import (
    ConsentForm,
    HideForm,
    MoveForm,
    PostActionForm,
    SuspendForm,
    TextsForm,
    ThreadActionForm,
)
from portal.extensions import db
from portal.markup import render_markdown
from portal.models import Board, BoardSuspension, User
from portal.web import get_or_404, redirect_to, render_page


def _back(thread_id: int, place: str):
    return redirect_to(url_for("boards.thread", thread_id=thread_id, _anchor=f"{place}-message"))


@bp.post("/posts/<int:post_id>/hide")
@login_required
def hide_post(post_id: int):
    post = post_for(post_id, "moderate_post")
    form = HideForm()
    if form.validate_on_submit():
        posting.hide(post, current_user, form.reason.data.strip())
        db.session.commit()
        pages.notice(f"post-{post.id}", "The post is hidden. Its author sees it marked hidden, with your reason.")
    else:
        pages.notice(f"post-{post.id}", "Not hidden: " + " ".join(form.reason.errors or ["try again."]), "error")
    return redirect_to(pages.post_url(current_user, post))


@bp.post("/posts/<int:post_id>/moderate")
@login_required
def moderate_post(post_id: int):
    post = post_for(post_id, "moderate_post")
    form = PostActionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    if action == "approve":
        posting.approve(post, current_user)
        message = "The post is approved and on the board."
    elif action == "unhide":
        posting.unhide(post, current_user)
        message = "The post is shown again."
    else:
        posting.dismiss(post, current_user)
        message = "The reports and flags on this post are dismissed."
    db.session.commit()
    if request.form.get("from") == "queue":
        # The post may leave the queue: the answer is at the top of the queue.
        pages.notice("queue", message)
        return redirect_to(url_for("boards.moderation", _anchor="queue-message"))
    pages.notice(f"post-{post.id}", message)
    return redirect_to(pages.post_url(current_user, post))


@bp.post("/threads/<int:thread_id>/moderate")
@login_required
def moderate_thread(thread_id: int):
    thread = thread_for(thread_id, "moderate_thread")
    form = ThreadActionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    if action in ("lock", "unlock"):
        posting.set_locked(thread, action == "lock", current_user)
    else:
        posting.set_pinned(thread, action == "pin", current_user)
    db.session.commit()
    words = {"lock": "locked", "unlock": "unlocked", "pin": "pinned", "unpin": "unpinned"}
    pages.notice("moderate", f"The thread is {words[action]}.")
    return _back(thread.id, "moderate")


@bp.post("/threads/<int:thread_id>/move")
@login_required
def move_thread(thread_id: int):
    thread = thread_for(thread_id, "moderate_thread")
    form = MoveForm()
    form.board_id.choices = pages.move_choices(current_user, thread)
    if not form.validate_on_submit():
        pages.notice("moderate", "Choose a board you moderate.", "error")
        return _back(thread.id, "moderate")
    target = db.session.get(Board, form.board_id.data)
    if target is None or not can(current_user, "moderate_board", target):
        abort(403)
    try:
        posting.move(thread, target, current_user)
    except posting.BoardError as error:
        db.session.rollback()
        pages.notice("moderate", str(error), "error")
    else:
        db.session.commit()
        pages.notice("moderate", f"The thread is now on {target.title}.")
    return _back(thread.id, "moderate")


@bp.post("/boards/<int:board_id>/suspend")
@login_required
def suspend(board_id: int):
    board = board_for(board_id, "moderate_board")
    form = SuspendForm()
    user_id = inputs.optional_record_id(form.user_id.data)
    person = db.session.get(User, user_id) if user_id else None
    back = next_or(url_for("boards.board", board_id=board.id, _anchor="suspend-message"))
    # The answer next to the post whose form was used (its `next` ends at that post's message).
    post_id = inputs.optional_record_id(request.form.get("post_id"))
    place = f"post-{post_id}" if post_id else "suspend"
    # Only someone who reads this board can be kept off it, and never one of its moderators.
    if person is not None and board_suspended(person, board):
        until = db.session.execute(
            db.select(db.func.max(BoardSuspension.until)).where(
                BoardSuspension.board_id == board.id, BoardSuspension.user_id == person.id,
                BoardSuspension.lifted_at.is_(None),
            )
        ).scalar_one()
        already = f"{person.display_name} is already kept off {board.title} until {until:%-d %b %Y}."
        pages.notice(place, already, "error")
        return redirect_to(back)
    if person is None or not can(person, "read_board", board) or can(person, "moderate_board", board):
        pages.notice(place, "Choose someone who takes part in this board.", "error")
        return redirect_to(back)
    if not form.validate_on_submit():
        pages.notice(place, "Not suspended: " + " ".join(form.reason.errors or ["try again."]), "error")
        return redirect_to(back)
    days = int(form.days.data)
    posting.suspend(board, person, days, form.reason.data.strip(), current_user)
    db.session.commit()
    pages.notice(place, f"{person.display_name} is kept off {board.title} for {days} day{'s' if days > 1 else ''}.")
    return redirect_to(back)


@bp.post("/boards/suspensions/<int:suspension_id>/lift")
@login_required
def lift_suspension(suspension_id: int):
    row = get_or_404(BoardSuspension, suspension_id)
    board = board_for(row.board_id, "moderate_board")  # CSRF: checked for every POST (CSRFProtect)
    person = db.session.get(User, row.user_id)
    if posting.lift(row, current_user):
        db.session.commit()
        pages.notice("suspend", f"{person.display_name} can read and post on {board.title} again; they have been told.")
    else:
        db.session.rollback()
        pages.notice("suspend", f"{person.display_name}'s break from {board.title} had already ended.", "info")
    return redirect_to(url_for("boards.board", board_id=board.id, _anchor="suspend-message"))


@bp.get("/boards/moderation")
@login_required
def moderation():
    require("moderation_queue")
    return render_page("boards/moderation.html", None, items=pages.queue(current_user))


@bp.route("/boards/guidelines", methods=["GET", "POST"])
@login_required
def guidelines():
    require("use_boards")
    form = ConsentForm()
    back = next_or(url_for("boards.index"))
    if form.validate_on_submit():
        posting.accept(current_user)
        db.session.commit()
        return redirect_to(back)
    texts = posting.texts()
    return render_page(
        "boards/guidelines.html",
        None,
        status=422 if form.is_submitted() else 200,
        form=form,
        guidelines=render_markdown(texts["guidelines"]),
        consent=render_markdown(texts["consent"]),
        accepted=posting.has_consented(current_user),
        next_url=back,
    )


@bp.route("/boards/settings", methods=["GET", "POST"])
@login_required
def settings():
    require("edit_board_texts")
    form = TextsForm(data=posting.texts() if request.method == "GET" else None)
    if form.validate_on_submit():
        for key in posting.TEXT_KEYS:
            posting.set_text(key, form[key].data.strip(), current_user)
        db.session.commit()
        pages.notice("texts", "The texts are saved.")
        return redirect_to(url_for("boards.settings", _anchor="texts-message"))
    return render_page(
        "boards/settings.html",
        None,
        status=422 if form.is_submitted() else 200,
        form=form,
    )
