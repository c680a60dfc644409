"""Topic categories of the community board, for admins: the list with a form to add one, and
per topic a rename form and retire/restore; moderators refile a thread under a topic."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required

from portal.authz import can, require
from portal.boards import bp, pages, posting, topics
from portal.boards.access import board_for, thread_for
from portal.boards.forms import FileUnderForm, TopicForm, TopicStateForm
from portal.extensions import db
from portal.models import Board, BoardTopic
from portal.web import get_or_404, redirect_to, render_page


def _topic_for(topic_id: int) -> BoardTopic:
    topic = get_or_404(BoardTopic, topic_id)
    if not can(current_user, "read_board", db.session.get(Board, topic.board_id)):
        abort(404)
    require("manage_board_topic", topic)
    return topic


def _to_list(board_id: int, place: str):
    return redirect_to(url_for("boards.topics_page", board_id=board_id, _anchor=f"{place}-message"))


@bp.route("/boards/<int:board_id>/topics", methods=["GET", "POST"])
@login_required
def topics_page(board_id: int):
    board = board_for(board_id, "manage_board_topics")
    form = TopicForm()
    status = 200
    if form.validate_on_submit():
        try:
            topic = topics.create(board, form.name.data, current_user)
        except posting.BoardError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            pages.notice(f"topic-{topic.id}", f"The topic “{topic.name}” is open for new threads.")
            return _to_list(board.id, f"topic-{topic.id}")
    if form.is_submitted():
        status = 422
    return render_page(
        "boards/topics.html",
        None,
        status=status,
        board=board,
        form=form,
        topics=topics.topics_of(board),
        counts=topics.counts(board),
    )


@bp.post("/boards/topics/<int:board_topic_id>/rename")
@login_required
def rename_topic(board_topic_id: int):
    topic = _topic_for(board_topic_id)
    form = TopicForm()
    anchor = f"topic-{topic.id}"
    if not form.validate_on_submit():
        pages.notice(anchor, "Not renamed: " + " ".join(form.name.errors or ["try again."]), "error")
        return _to_list(topic.board_id, anchor)
    try:
        topics.rename(topic, form.name.data, current_user)
    except posting.BoardError as error:
        db.session.rollback()
        pages.notice(anchor, f"Not renamed: {error}", "error")
    else:
        db.session.commit()
        pages.notice(anchor, f"The topic is now called “{topic.name}”.")
    return _to_list(topic.board_id, anchor)


@bp.post("/boards/topics/<int:board_topic_id>/state")
@login_required
def topic_state(board_topic_id: int):
    topic = _topic_for(board_topic_id)
    form = TopicStateForm()
    if not form.validate_on_submit():
        abort(400)
    if form.action.data == "retire":
        topics.retire(topic, current_user)
        message = "The topic is retired: it takes no new threads, and its threads keep it."
    else:
        topics.restore(topic, current_user)
        message = "The topic is open again for new threads."
    db.session.commit()
    pages.notice(f"topic-{topic.id}", message)
    return _to_list(topic.board_id, f"topic-{topic.id}")


@bp.post("/threads/<int:thread_id>/topic")
@login_required
def file_thread(thread_id: int):
    thread = thread_for(thread_id, "moderate_thread")
    board = board_for(thread.board_id, "read_board")
    form = FileUnderForm()
    form.topic_id.choices = topics.topic_choices(board, thread)
    if not form.validate_on_submit():
        pages.notice("moderate", "Choose one of this board's topics.", "error")
    else:
        topic = topics.topic_of_board(board, form.topic_id.data or None)
        topics.file_under(thread, topic, current_user)
        db.session.commit()
        pages.notice("moderate", f"The thread is filed under {topic.name if topic else 'no topic'}.")
    return redirect_to(url_for("boards.thread", thread_id=thread.id, _anchor="moderate-message"))
