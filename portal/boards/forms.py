from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.forms import PortalForm, coerce_id, coerce_id_or_zero

BODY_MAX = 10_000


def _body(label="Your message"):
    return TextAreaField(
        label,
        validators=[DataRequired("Write something first."), Length(max=BODY_MAX, message="At most 10 000 characters.")],
        description="Markdown works: **bold**, *italic*, lists, > quotes, `code` and [links](https://example.org).",
    )


def new_key() -> str:
    """A fresh idempotency key for a form that makes a post."""
    import secrets

    return secrets.token_urlsafe(18)


def _key():
    # The form's idempotency key: sent again with the same key (a double click, a retry after
    # the connection dropped), the form makes one post. Made when the form is shown.
    return HiddenField(validators=[Optional(), Length(max=40), Regexp(r"^[A-Za-z0-9_-]+$")], default=new_key)


class ThreadForm(PortalForm):
    title = StringField("Title", validators=[DataRequired("Give the thread a title."), Length(max=160)])
    # Choices: "No topic" (0) and the board's open topics (set by the route; only on boards with topics).
    topic_id = SelectField("Topic", coerce=coerce_id_or_zero, validate_choice=True, default=0)
    body = _body()
    key = _key()


class ReplyForm(PortalForm):
    body = _body("Your reply")
    key = _key()


class EditForm(PortalForm):
    body = _body("Your post")


class ReportForm(PortalForm):
    reason = StringField(
        "Why are you reporting this post?",
        validators=[DataRequired("Say in a few words what is wrong."), Length(min=3, max=500)],
    )


class HideForm(PortalForm):
    reason = StringField(
        "Reason (the author sees it)",
        validators=[DataRequired("Tell the author why their post is hidden."), Length(min=3, max=300)],
    )


class PostActionForm(PortalForm):
    action = SelectField(
        "Action",
        choices=[
            SelectChoice("approve", "Approve"),
            SelectChoice("unhide", "Show again"),
            SelectChoice("dismiss", "Dismiss the reports and flags"),
        ],
    )


class ThreadActionForm(PortalForm):
    action = SelectField(
        "Action",
        choices=[
            SelectChoice("lock", "Lock"),
            SelectChoice("unlock", "Unlock"),
            SelectChoice("pin", "Pin"),
            SelectChoice("unpin", "Unpin"),
        ],
    )


class TopicForm(PortalForm):
    name = StringField("Topic name", validators=[DataRequired("Give the topic a name."), Length(max=60)])


class TopicStateForm(PortalForm):
    action = SelectField("Action", choices=[SelectChoice("retire", "Retire"), SelectChoice("restore", "Restore")])


class FileUnderForm(PortalForm):
    topic_id = SelectField("Topic", coerce=coerce_id_or_zero, validate_choice=True)


class MoveForm(PortalForm):
    board_id = SelectField("Move to", coerce=coerce_id, validate_choice=True)


class SuspendForm(PortalForm):
    user_id = HiddenField()
    days = SelectField(
        "For how long",
        choices=[SelectChoice("1", "1 day"), SelectChoice("7", "7 days"), SelectChoice("30", "30 days")],
        default="7",
    )
    reason = StringField(
        "Reason",
        validators=[
            DataRequired("Give a reason."),
            Length(min=3, max=300, message="Give a reason of 3 to 300 characters."),
        ],
    )


class ConsentForm(PortalForm):
    accept = BooleanField(
        "I have read the community guidelines and who can read what I write, and I accept them.",
        validators=[DataRequired("Tick the box to accept.")],
    )


class TextsForm(PortalForm):
    guidelines = TextAreaField("Community guidelines", validators=[DataRequired(), Length(max=10_000)])
    consent = TextAreaField("Who can read what (informed consent)", validators=[DataRequired(), Length(max=10_000)])
    crisis_resources = TextAreaField(
        "Crisis resources (shown at once to the author of a post with a crisis phrase)",
        validators=[DataRequired(), Length(max=5_000)],
    )
    crisis_phrases = TextAreaField(
        "Crisis phrases (one per line; case, punctuation and spacing are ignored)",
        validators=[DataRequired(), Length(max=5_000)],
    )
