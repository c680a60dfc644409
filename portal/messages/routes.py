from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from portal import inputs
from portal.authz import can, message_candidates, require
from portal.extensions import db
from portal.forms import CheckboxesField, PortalForm, coerce_id
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


class GroupForm(PortalForm):
    """A new conversation with one to four people chosen among those one may write to."""

    find = StringField("Find people by name", validators=[Optional(), Length(max=80)])
    to = CheckboxesField(
        f"With whom (up to {core.MAX_OTHERS})",
        coerce=coerce_id,
        validate_choice=False,  # checked below, with a message a person can act on
        description="People listed in the member directory.",
    )
    subject = StringField("Subject", validators=[DataRequired("Give it a subject."), Length(max=160)])
    body = _body()


class HandleForm(PortalForm):
    action = HiddenField(validators=[AnyOf(tuple(core.OUTCOMES))])


class SendForm(PortalForm):
    body = _body()


class BlockForm(PortalForm):
    user_id = HiddenField()
    action = HiddenField(validators=[AnyOf(("block", "unblock"))])


class ReportForm(PortalForm):
    reason = StringField("Why report it?", validators=[DataRequired("Say why."), Length(min=3, max=500)])


def _conversation(conversation_id: int, action: str = "read_conversation") -> Conversation:
    conversation = get_or_404(Conversation, conversation_id)
    if not can(current_user, "read_conversation", conversation) or core.hidden_from(conversation, current_user.id):
        # A conversation one is not in does not exist for them (admins included); nor does one
        # started by someone they had blocked.
        abort(404)
    require(action, conversation)
    return conversation


PICK_LIMIT = 200


def _inbox_page(form: GroupForm, status: int = 200):
    rows = core.inbox(current_user)
    chosen = [i for i in (form.to.data or []) if isinstance(i, int)]
    needle = (form.find.data or "").strip()[:80]
    problem = inputs.single_line_problem(needle)  # the one input policy: no control characters
    if problem:
        form.find.errors = [*form.find.errors, problem] if isinstance(form.find.errors, list) else [problem]
        needle = ""
    people = core.pickable(message_candidates(current_user), current_user, needle, chosen, PICK_LIMIT)
    form.to.choices = [(p.id, p.display_name) for p in people]
    return render_page(
        "notify/messages.html",
        status=status,
        rows=rows,
        names=core.names_of([c.id for c, _ in rows], current_user.id),
        form=form,
        more=len(people) >= PICK_LIMIT,
        max_others=core.MAX_OTHERS,
    )


@bp.get("/messages")
@login_required
def index():
    require("use_messages")
    return _inbox_page(GroupForm(formdata=None))


@bp.post("/messages/new")
@login_required
def start():
    """A conversation with a few people (one to four besides oneself). The "Find" button posts
    the same form back with the list narrowed by name, keeping what was chosen and written."""
    require("use_messages")
    form = GroupForm()
    if request.form.get("step") == "find":  # nothing sent, so nothing to refuse (CSRF checked app-wide)
        return _inbox_page(form)
    valid = form.validate_on_submit()
    people: list[User] = []
    chosen = list(dict.fromkeys(i for i in (form.to.data or []) if i != current_user.id))
    if not form.to.errors:
        if not chosen:
            form.to.errors.append("Choose at least one person.")
        elif len(chosen) > core.MAX_OTHERS:
            form.to.errors.append(
                f"Choose at most {core.MAX_OTHERS} people: a conversation has at most {core.MAX_MEMBERS}, you included."
            )
        else:
            people = core.allowed(message_candidates(current_user), chosen)
            if len(people) != len(chosen):
                form.to.errors.append("You can write only to people listed in the member directory.")
    if valid and not form.to.errors:
        try:
            conversation = core.start(current_user, people, form.subject.data.strip(), form.body.data)
        except core.MessageError as error:
            db.session.rollback()
            form.to.errors.append(str(error))
        else:
            db.session.commit()
            say_here("send", "Sent.")
            return redirect_to(url_for("messages.conversation", conversation_id=conversation.id))
    return _inbox_page(form, status=422)


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
        reported=core.reported_by(current_user.id, [m.id for m in messages]),
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


@bp.get("/messages/<int:conversation_id>/new")
@login_required
def new_messages(conversation_id: int):
    """The open conversation's poll: 204 while nothing new came after `seen` (the last message
    the page shows), else "N new messages" with a link that shows them."""
    conversation = _conversation(conversation_id)
    seen = inputs.optional_record_id(request.args.get("seen")) or 0
    count = core.new_since(conversation.id, current_user.id, seen)
    if not count:
        return "", 204
    return render_page("notify/_new_messages.html", None, conversation=conversation, seen=seen, count=count)


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
    return render_page(
        "notify/message_reports.html",
        rows=rows,
        authors=core.authors(messages),
        reporters=reporters,
        handled=core.handled(),
        names=core.names_of(list({m.conversation_id for m, _, _ in rows}), 0),
        handle_form=HandleForm(formdata=None),
    )


@bp.post("/messages/message/<int:message_id>/handle")
@login_required
def handle_report(message_id: int):
    """An admin dismisses the reports on a message or removes it; only a reported message."""
    require("review_message_reports")
    message = get_or_404(DirectMessage, message_id)
    if not can(current_user, "handle_message_report", message):
        abort(404)  # an unreported message does not exist for admins
    form = HandleForm()
    if not form.validate_on_submit():
        abort(400)
    closed = core.handle(message, current_user, form.action.data)
    db.session.commit()
    if not closed:
        say_here("reports", "Someone had already handled this report.")
    elif form.action.data == "remove":
        say_here("reports", "The message is removed: its conversation shows that a message was removed.")
    else:
        say_here("reports", "The reports are dismissed; the message stays as it was.")
    return redirect_to(url_for("messages.reports", _anchor="reports"))
