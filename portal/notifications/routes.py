"""Notification pages: the list with "mark all read" and the mail choice, opening one,
following threads and boards, @mention suggestions, and the signed unsubscribe link."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required

from portal import inputs
from portal.authz import require
from portal.boards.access import board_for, thread_for
from portal.extensions import csrf, db
from portal.models import Notification, User
from portal.notifications import bp, core
from portal.notifications.forms import ButtonForm, FollowForm, MailForm
from portal.web import get_or_404, redirect_to, render_page, safe_next, say_here


def _page(mail_form=None, status=200):
    before = inputs.optional_record_id(request.args.get("before"))
    rows, next_before = core.page(current_user, before)
    actors = {}
    ids = {n.actor_id for n in rows if n.actor_id}
    if ids:
        actors = dict(db.session.execute(db.select(User.id, User.display_name).where(User.id.in_(ids))).all())
    mode = core.mail_mode(current_user.id)
    return render_page(
        "notify/notifications.html",
        status=status,
        rows=rows,
        actors=actors,
        next_before=next_before,
        first_page=before is None,
        mail_form=mail_form or MailForm(formdata=None, data={"mode": mode}),
        mode=mode,
        button=ButtonForm(formdata=None),
    )


@bp.get("/notifications")
@login_required
def index():
    require("own_notifications")
    return _page()


@bp.post("/notifications/read")
@login_required
def read_all():
    require("own_notifications")
    if not ButtonForm().validate_on_submit():
        abort(400)
    shown = core.unread_count(current_user)  # what the person sees as new (not what they no longer may)
    core.mark_all_read(current_user)
    db.session.commit()
    say_here("notifications", f"Marked {shown} as read." if shown else "Nothing was unread.")
    return redirect_to(url_for("notifications.index", _anchor="notifications-message"))


@bp.post("/notifications/mail")
@login_required
def mail_choice():
    require("own_notifications")
    form = MailForm()
    if not form.validate_on_submit():
        return _page(mail_form=form, status=422)
    changed = core.set_mail_mode(current_user.id, form.mode.data)
    db.session.commit()
    say_here("mail", "Saved: " + core.MODES[form.mode.data].lower() + "." if changed else "Nothing changed.")
    return redirect_to(url_for("notifications.index", _anchor="mail"))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_one(notification_id: int):
    n = get_or_404(Notification, notification_id)
    if n.user_id != current_user.id:
        abort(404)  # someone else's notification does not exist for this person
    require("open_notification", n)
    if not ButtonForm().validate_on_submit():
        abort(400)
    target = core.open_target(current_user, n)
    db.session.commit()
    if target is None:
        say_here("notifications", "You can no longer see what this was about.", "info")
        return redirect_to(url_for("notifications.index"))
    return redirect_to(target)


@bp.post("/threads/<int:thread_id>/follow")
@login_required
def follow_thread(thread_id: int):
    thread = thread_for(thread_id, "follow_thread")
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400)
    if form.action.data == "follow":
        core.follow(current_user.id, thread_id=thread.id)
        message = "You follow this thread: you are told of new replies."
    else:
        core.unfollow(current_user.id, thread_id=thread.id)
        message = "You no longer follow this thread."
    db.session.commit()
    say_here("follow", message)
    # Back to the page of the thread the person was on (a later page keeps its ?after=).
    back = safe_next(request.form.get("next"), url_for("boards.thread", thread_id=thread.id))
    return redirect_to(back.split("#")[0] + "#follow-message")


@bp.post("/boards/<int:board_id>/follow")
@login_required
def follow_board(board_id: int):
    board = board_for(board_id, "follow_board")
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400)
    if form.action.data == "follow":
        core.follow(current_user.id, board_id=board.id)
        message = "You follow this board: you are told of every new post."
    else:
        core.unfollow(current_user.id, board_id=board.id)
        message = "You no longer follow this board."
    db.session.commit()
    say_here("follow", message)
    return redirect_to(url_for("boards.board", board_id=board.id, _anchor="follow-message"))


@bp.get("/boards/<int:board_id>/mentions")
@login_required
def mention_suggestions(board_id: int):
    """htmx: names to @mention among the people who may read the board, for the word being
    typed (the text of the form's body field)."""
    board = board_for(board_id, "mention_in_board")
    people = core.suggestions(board, request.args.get("body", ""))
    return render_page("notify/_mentions.html", None, people=people, board=board)


# --- the signed unsubscribe link: works signed out; a mail program's one-click POST
# (RFC 8058: List-Unsubscribe-Post) carries no CSRF token, so only that exact body skips it -----


def _token_user(token: str) -> User:
    user_id = core.user_of_token(current_app.secret_key, token)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        abort(404)
    return user


@bp.get("/notifications/unsubscribe/<notify_token>")
def unsubscribe(notify_token: str):
    person = _token_user(notify_token)
    return render_page(
        "notify/unsubscribe.html",
        token=notify_token,
        person=person,
        mode=core.mail_mode(person.id),
        form=ButtonForm(formdata=None),
    )


@bp.post("/notifications/unsubscribe/<notify_token>")
@csrf.exempt
def unsubscribe_confirm(notify_token: str):
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        csrf.protect()  # the page's own button: a normal form with its token
    person = _token_user(notify_token)
    core.set_mail_mode(person.id, "off")
    db.session.commit()
    if one_click:
        return "Unsubscribed.", 200, {"Content-Type": "text/plain; charset=utf-8"}
    say_here("unsubscribe", "Done: no more mail about notifications. You still see them on the site.")
    return redirect(url_for("notifications.unsubscribe", notify_token=notify_token), code=303)
