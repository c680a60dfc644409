"""Board pages: the list of boards, a board's threads, a thread's posts, writing, editing,
reporting; the new-reply poll. Moderation lives in moderation_routes."""

from __future__ import annotations

from flask import abort, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from portal import inputs
from portal.authz import can, moderates, require, visible_boards
from portal.boards import bp, pages, posting, topics
from portal.boards.access import board_for, post_for, thread_for
from portal.boards.forms import EditForm, ReplyForm, ReportForm, ThreadForm
from portal.extensions import db
from portal.markup import render_markdown
from portal.models import BoardTopic, Post, Thread
from portal.web import redirect_to, render_page, wants_fragment


@bp.app_template_global("board_poll_ticket")
def board_poll_ticket(thread_id: int) -> str:
    return pages.poll_ticket(current_user.id, thread_id)


def _cursor(name: str) -> int | None:
    return inputs.optional_record_id(request.args.get(name))


@bp.get("/boards")
@login_required
def index():
    require("use_boards")
    boards = list(db.session.execute(visible_boards(current_user)).scalars())
    return render_page("boards/index.html", boards=boards)


@bp.get("/boards/<int:board_id>")
@login_required
def board(board_id: int):
    board = board_for(board_id)
    topic = None
    if request.args.get("topic"):
        topic = topics.topic_of_board(board, _cursor("topic"))
        if topic is None:
            abort(404)  # not a topic of this board
    moderator = moderates(current_user, board)
    page = pages.thread_page(
        board, _cursor("before"), current_user, moderator, topic_id=topic.id if topic is not None else None
    )
    return render_page(
        "boards/board.html",
        "threads",
        board=board,
        page=page,
        topic=topic,
        topics=topics.topics_of(board) if topics.has_topics(board) else [],
        first_page=_cursor("before") is None,
        can_post=can(current_user, "post_on_board", board),
        can_manage_topics=can(current_user, "manage_board_topics", board),
        kept_off=posting.kept_off(board) if moderator else [],
    )


def _posted_again(existing: Post) -> posting.Posted:
    """The form was sent again, unchanged, with the key of a post already made: that post, not
    another. (A changed text under an old key is a new post, made without the key.)"""
    return posting.Posted(existing, existing.crisis_flagged_at is not None)


def _consent_first(next_url: str):
    return redirect_to(url_for("boards.guidelines", next=next_url))


@bp.route("/boards/<int:board_id>/new", methods=["GET", "POST"])
@login_required
def new_thread(board_id: int):
    board = board_for(board_id, "post_on_board")
    here = url_for("boards.new_thread", board_id=board.id)
    if not posting.has_consented(current_user):
        return _consent_first(here)
    form = ThreadForm()
    open_topics = topics.open_topics(board) if topics.has_topics(board) else []
    form.topic_id.choices = [(0, "No topic")] + [(t.id, t.name) for t in open_topics]
    if request.method == "GET" and request.args.get("topic"):
        form.topic_id.data = _cursor("topic") if _cursor("topic") in {t.id for t in open_topics} else 0
    status = 200
    if form.validate_on_submit():
        existing = posting.already_posted(current_user, form.key.data)
        key = form.key.data if existing is None else None
        try:
            if existing is not None and existing.board_id == board.id and existing.body == form.body.data:
                posted = _posted_again(existing)
            else:
                posted = posting.start_thread(
                    board, current_user, form.title.data.strip(), form.body.data, key, form.topic_id.data or None
                )
        except posting.BoardError as error:
            db.session.rollback()
            form.body.errors.append(str(error))
        except IntegrityError:  # the same form, sent twice at once: the other request made the post
            db.session.rollback()
            return redirect_to(url_for("boards.board", board_id=board.id))
        else:
            db.session.commit()
            thread_id = posted.post.thread_id
            pages.notice(f"post-{posted.post.id}", _posted_message(posted.post), "success")
            if posted.crisis:  # the resources come first, at the top of the thread
                return redirect_to(
                    url_for("boards.thread", thread_id=thread_id, crisis=posted.post.id, _anchor="crisis")
                )
            return redirect_to(pages.post_url(current_user, posted.post))
    if form.is_submitted():
        status = 422
    return render_page(
        "boards/new_thread.html", "thread_form", status=status, board=board, form=form, has_topics=bool(open_topics)
    )


def _posted_message(post: Post) -> str:
    if post.pending:
        return (
            "Your post is saved and waits for a moderator's approval: posts with links from new "
            "accounts are checked first. Only you and the moderators see it until then."
        )
    return "Your post is on the board."


def _thread_context(thread: Thread, after: int | None, reply_form=None, reply_message=None, crisis_post=None):
    moderator = moderates(current_user, thread.board)
    page = pages.post_page(current_user, thread, after, moderator)
    crisis = None
    if crisis_post is not None:
        crisis = render_markdown(posting.text("crisis_resources"))
    return {
        "thread": thread,
        "board": thread.board,
        "page": page,
        "after": after,
        "moderator": moderator,
        "can_reply": can(current_user, "reply_thread", thread),
        "consented": posting.has_consented(current_user),
        "reply_form": reply_form or ReplyForm(formdata=None),
        "reply_message": reply_message,
        "crisis": crisis,
        "move_choices": pages.move_choices(current_user, thread) if moderator else [],
        "topic": db.session.get(BoardTopic, thread.topic_id) if thread.topic_id else None,
        "topic_choices": (
            topics.topic_choices(thread.board, thread) if moderator and topics.has_topics(thread.board) else []
        ),
        "fragment": wants_fragment(),
    }


def _crisis_from_args(thread: Thread) -> Post | None:
    crisis_id = _cursor("crisis")
    if crisis_id is None:
        return None
    post = db.session.get(Post, crisis_id)
    if post is None or post.author_id != current_user.id or post.thread_id != thread.id:
        return None
    return post if post.crisis_flagged_at is not None else None


@bp.get("/threads/<int:thread_id>")
@login_required
def thread(thread_id: int):
    thread = thread_for(thread_id)
    context = _thread_context(thread, _cursor("after"), crisis_post=_crisis_from_args(thread))
    return render_page("boards/thread.html", "posts", **context)


@bp.get("/threads/<int:thread_id>/new-replies")
@login_required
def new_replies(thread_id: int):
    """The open thread's poll: 204 while nothing new (the thread's version is the id of its
    latest post), else "N new replies". With the ticket its thread page gave it (pages.
    poll_ticket), nothing new is answered after reading only the session and the version;
    anything else goes through the full check."""
    seen = _cursor("seen") or 0
    if pages.ticket_ok(request.args.get("t"), current_user.id, thread_id):
        require("use_boards")  # the fast path (see pages.poll_ticket): nothing new, nothing said
        version = pages.thread_version(thread_id)
        if version is not None and version <= seen:
            return "", 204
    thread = thread_for(thread_id)
    if thread.last_post_id <= seen:
        return "", 204
    count = pages.new_reply_count(current_user, thread, seen)
    if not count:
        return "", 204
    return render_page("boards/_new_replies.html", None, thread=thread, seen=seen, count=count)


@bp.post("/threads/<int:thread_id>/reply")
@login_required
def reply(thread_id: int):
    thread = thread_for(thread_id, "reply_thread")
    if not posting.has_consented(current_user):
        return _consent_first(url_for("boards.thread", thread_id=thread.id))
    form = ReplyForm()
    seen = inputs.optional_record_id(request.form.get("seen"))
    if form.validate_on_submit():
        existing = posting.already_posted(current_user, form.key.data)
        key = form.key.data if existing is None else None
        try:
            if existing is not None and existing.thread_id == thread.id and existing.body == form.body.data:
                posted = _posted_again(existing)
            else:
                posted = posting.reply(thread, current_user, form.body.data, key)
        except posting.BoardError as error:
            db.session.rollback()
            form.body.errors.append(str(error))
        except IntegrityError:  # the same form, sent twice at once: the other request made the post
            db.session.rollback()
            thread = thread_for(thread_id, "reply_thread")
            existing = posting.already_posted(current_user, form.key.data)
            if existing is None:
                raise
            posted = _posted_again(existing)
        else:
            db.session.commit()
        if not form.body.errors:
            message = _posted_message(posted.post)
            if wants_fragment():
                pages.notice("reply", message)
                context = _thread_context(
                    thread, seen, reply_message=message, crisis_post=posted.post if posted.crisis else None
                )
                from flask import render_template
                from jinja2_fragments.flask import render_block

                html = render_block("boards/thread.html", "reply", **context)
                html += render_template("boards/_reply_done.html", **context)
                response = make_response(html)
                response.vary.add("HX-Request")
                return response
            pages.notice(f"post-{posted.post.id}", message)
            if posted.crisis:  # the resources first, on the page of the thread that shows the post
                values = {**pages.post_location(current_user, posted.post), "crisis": posted.post.id}
                target = url_for("boards.thread", **{**values, "_anchor": "crisis"})
            else:
                target = pages.post_url(current_user, posted.post)
            return redirect(target, code=303)
    context = _thread_context(thread, seen, reply_form=form)
    return render_page("boards/thread.html", "reply", status=422, **context)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post = post_for(post_id, "edit_post")
    form = EditForm(data={"body": post.body} if request.method == "GET" else None)
    if form.validate_on_submit():
        crisis = posting.edit(post, form.body.data)
        db.session.commit()
        pages.notice(f"post-{post.id}", "Your post is saved." + (" It waits for approval." if post.pending else ""))
        if crisis:  # the resources come first, at the top of the thread
            return redirect_to(url_for("boards.thread", thread_id=post.thread_id, crisis=post.id, _anchor="crisis"))
        return redirect_to(pages.post_url(current_user, post))
    status = 422 if form.is_submitted() else 200
    return render_page("boards/edit_post.html", None, status=status, post=post, form=form)


@bp.post("/posts/<int:post_id>/remove")
@login_required
def remove_post(post_id: int):
    post = post_for(post_id, "remove_post")
    posting.remove(post)
    db.session.commit()
    pages.notice(f"post-{post.id}", "Your post is removed. A note stays in its place.")
    return redirect_to(pages.post_url(current_user, post))


@bp.post("/posts/<int:post_id>/report")
@login_required
def report_post(post_id: int):
    post = post_for(post_id, "report_post")
    form = ReportForm()
    if not form.validate_on_submit():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        pages.notice(f"post-{post.id}", f"Not reported: {message}", "error")
    elif posting.report(post, current_user, form.reason.data.strip()):
        db.session.commit()
        pages.notice(f"post-{post.id}", "Thank you. The moderators will look at this post.")
    else:
        pages.notice(f"post-{post.id}", "You have already reported this post; the moderators have it.")
    return redirect_to(pages.post_url(current_user, post))
