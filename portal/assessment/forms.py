from __future__ import annotations

from wtforms import EmailField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from portal.assessment.competencies import COMPETENCIES, label
from portal.forms import CheckboxesField, PortalForm, coerce_id

COMPETENCY_CHOICES = [SelectChoice(n, label(n)) for n in COMPETENCIES]
YES_NO = [SelectChoice("yes", "Required to pass"), SelectChoice("no", "Not required")]


class ChecklistItemForm(PortalForm):
    # Several of these forms share a page, each with a prefix; the app-wide CSRFProtect checks
    # the page's one `csrf_token` field (or the htmx header) before the route runs.
    class Meta:
        csrf = False

    competency = SelectField("Competency", choices=COMPETENCY_CHOICES, coerce=int)
    title = StringField(
        "What the trainee shows", validators=[DataRequired("Write what the trainee shows."), Length(max=200)]
    )
    met_looks_like = TextAreaField('What "met" looks like', validators=[Optional(), Length(max=1000)])
    required = SelectField("Required", choices=YES_NO, default="yes")


class OpenExamForm(PortalForm):
    template_id = SelectField("Checklist", coerce=coerce_id)


class MarksForm(PortalForm):
    """The plain form of one trainee (the marks are read from the request: m_<item>, o_<item>,
    v_<item>, checked by the route against the exam's items)."""

    note = TextAreaField("Note about this trainee", validators=[Optional(), Length(max=2000)])
    note_version = IntegerField(validators=[InputRequired(), NumberRange(0, 2**31 - 1)])


class FinaliseForm(PortalForm):
    pass


class UnlockForm(PortalForm):
    reason = StringField(
        "Why unlock this result?", validators=[DataRequired("Say why the result is unlocked."), Length(max=300)]
    )


class ReexamineForm(PortalForm):
    email = EmailField(
        "Trainee's email",
        validators=[DataRequired("Enter the trainee's email."), Email("Enter an email address."), Length(max=254)],
        description="A trainee of any cohort who has not passed the oral exam yet.",
    )


class ConfirmForm(PortalForm):
    competencies = CheckboxesField(
        "Competencies to confirm",
        coerce=int,
        choices=COMPETENCY_CHOICES,
        validators=[DataRequired("Choose at least one competency.")],
    )
    evidence = TextAreaField("Note of evidence (optional)", validators=[Optional(), Length(max=2000)])


class DeclineForm(PortalForm):
    competency = SelectField("Competency", choices=COMPETENCY_CHOICES, coerce=int)
    reason = TextAreaField(
        "Reason (the trainee reads it)",
        validators=[DataRequired("Give the trainee a reason."), Length(max=2000)],
    )


class RemindForm(PortalForm):
    pass


class RemindersForm(PortalForm):
    """A supervisor's weekly reminders: "on" subscribes again, "off" stops them."""

    reminders = SelectField("Weekly reminders", choices=[SelectChoice("on", "on"), SelectChoice("off", "off")])


class UnsubscribeForm(PortalForm):
    """The one-button form of the unsubscribe link (the signed token is in its address)."""


class NewChecklistForm(PortalForm):
    name = StringField(
        "Name of the new checklist",
        validators=[DataRequired("Name the checklist."), Length(max=120)],
    )


class RetireChecklistForm(PortalForm):
    pass


class MoveItemForm(PortalForm):
    direction = SelectField("Move", choices=[SelectChoice("up", "up"), SelectChoice("down", "down")])
