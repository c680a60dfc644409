from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from portal import inputs
from portal.authz import can, require
from portal.extensions import db
from portal.forms import PortalForm
from portal.messages import bp, core
from portal.models import Conversation, DirectMessage, User
from portal.web import get_or_404, redirect_to, render_page, say_here

BODY_MAX = 10_000


def _body():
    return TextAreaField(
        "Your message",
        validators=[DataRequired("Write something first."), Length(max=BODY_MAX, message="At most 10 000 characters.")],
        description="Markdown works: **bold**, *italic*, lists, > quotes and [links](https://example.org).",
    )


class NewForm(PortalForm):
    subject = StringField("Subject", validators=[DataRequired("Give it a subject."), Length(max=160)])
    body = _body()


class SendForm(PortalForm):
    body = _body()


class BlockForm(PortalForm):
    user_id = HiddenField()
    action = HiddenField(validators=[AnyOf(("block", "unblock"))])


class ReportForm(PortalForm):
    reason = StringField("Why report it?", validators=[DataRequired("Say why."), Length(min=3, max=500)])


def _conversation(conversation_id: int, action: str = "read_conversation") -> Conversation:
    conversation = get_or_404(Conversation, conversation_id)
    if not can(current_user, "read_conversation", conversation):
        abort(404)  # a conversation one is not in does not exist for them (admins included)
    require(action, conversation)
    return conversation


@bp.get("/messages")
@login_required
def index():
    require("use_messages")
    rows = core.inbox(current_user)
    names = {c.id: core.names(c.id, current_user.id) for c, _ in rows}
    return render_page("notify/messages.html", rows=rows, names=names)


@bp.route("/messages/new/<int:person_id>", methods=["GET", "POST"])
@login_required
def new(person_id: int):
    require("use_messages")
    person = get_or_404(User, person_id)
    if not can(current_user, "message_person", person):
        abort(404)  # only people listed in the directory can be written to from it
    require("message_person", person)
    form = NewForm()
    if form.validate_on_submit():
        try:
            conversation = core.start(current_user, [person], form.subject.data.strip(), form.body.data)
        except core.MessageError as error:
            db.session.rollback()
            form.body.errors.append(str(error))
        else:
            db.session.commit()
            say_here("send", "Sent.")
            return redirect_to(url_for("messages.conversation", conversation_id=conversation.id))
    status = 422 if form.is_submitted() else 200
    return render_page("notify/message_new.html", status=status, form=form, person=person)


def _page(conversation: Conversation, send_form=None, status=200):
    messages = core.messages_for(conversation, current_user.id)
    if messages:
        core.mark_read(conversation, current_user.id, messages[-1].id)
        db.session.commit()
    others = core.others(conversation.id, current_user.id)
    blocked = core.blocked_by(current_user.id)
    return render_page(
        "notify/conversation.html",
        status=status,
        conversation=conversation,
        thread_messages=messages,
        authors=core.authors(messages),
        others=others,
        blocked=blocked,
        send_form=send_form or SendForm(formdata=None),
        report_form=ReportForm(formdata=None),
        block_form=BlockForm(formdata=None),
    )


@bp.get("/messages/<int:conversation_id>")
@login_required
def conversation(conversation_id: int):
    return _page(_conversation(conversation_id))


@bp.post("/messages/<int:conversation_id>/send")
@login_required
def send(conversation_id: int):
    conversation = _conversation(conversation_id, "write_conversation")
    form = SendForm()
    if not form.validate_on_submit():
        return _page(conversation, send_form=form, status=422)
    core.send(conversation, current_user, form.body.data)
    db.session.commit()
    say_here("send", "Sent.")
    return redirect_to(url_for("messages.conversation", conversation_id=conversation.id, _anchor="send"))


@bp.post("/messages/<int:conversation_id>/block")
@login_required
def block(conversation_id: int):
    conversation = _conversation(conversation_id)
    form = BlockForm()
    person_id = inputs.optional_record_id(form.user_id.data)
    if (
        not form.validate_on_submit()
        or person_id not in core.member_ids(conversation.id)
        or person_id == current_user.id
    ):
        abort(400)  # only someone in this conversation
    if form.action.data == "block":
        core.block(current_user, person_id)
        message = "Blocked: you will not see their messages. They are not told."
    else:
        core.unblock(current_user, person_id)
        message = "Unblocked: you see their new messages again."
    db.session.commit()
    say_here("people", message)
    return redirect_to(url_for("messages.conversation", conversation_id=conversation.id, _anchor="people"))


@bp.post("/messages/message/<int:message_id>/report")
@login_required
def report(message_id: int):
    message = get_or_404(DirectMessage, message_id)
    if not can(current_user, "read_conversation", message.conversation):
        abort(404)
    require("report_message", message)
    form = ReportForm()
    place = f"message-{message.id}"
    if not form.validate_on_submit():
        say_here(place, "Not reported: " + " ".join(e for errs in form.errors.values() for e in errs), "error")
    elif core.report(message, current_user, form.reason.data.strip()):
        db.session.commit()
        say_here(place, "Thank you. The programme team will look at this message.")
    else:
        say_here(place, "You have already reported this message.")
    return redirect_to(url_for("messages.conversation", conversation_id=message.conversation_id, _anchor=place))


@bp.get("/messages/reports")
@login_required
def reports():
    require("review_message_reports")
    rows = core.reported()
    messages = [m for _, _, around in rows for m in around]
    reporter_ids = {r.reporter_id for _, reports_, _ in rows for r in reports_}
    reporters = {}
    if reporter_ids:
        reporters = dict(
            db.session.execute(db.select(User.id, User.display_name).where(User.id.in_(reporter_ids))).all()
        )
    return render_page("notify/message_reports.html", rows=rows, authors=core.authors(messages), reporters=reporters)
