from __future__ import annotations

from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal import inputs
from portal.forms import CheckboxesField, PortalForm

STATUS_CHOICES = [
    SelectChoice("present", "Present"),
    SelectChoice("late", "Late"),
    SelectChoice("left_early", "Left early"),
    SelectChoice("absent", "Absent"),
    SelectChoice("excused", "Excused"),
]


class CheckinForm(PortalForm):
    code = StringField(
        "Check-in code",
        validators=[DataRequired("Enter the 6-digit code on the facilitator's screen."), Length(max=20)],
        description="The 6 digits shown on the facilitator's screen.",
    )


class WindowForm(PortalForm):
    action = SelectField(
        "Check-in", choices=[SelectChoice("open", "Open check-in"), SelectChoice("close", "Close check-in")]
    )


def _person_id(form, field):
    try:
        field.data = inputs.record_id(field.data)
    except (ValueError, TypeError):
        raise ValidationError("Choose a person on the roll.") from None


class MarkForm(PortalForm):
    user_id = HiddenField("Person", validators=[DataRequired("Choose a person on the roll."), _person_id])
    status = SelectField("Status", choices=STATUS_CHOICES)
    minutes = IntegerField(
        "Minutes attended", validators=[Optional(), NumberRange(min=0, max=600, message="Enter the minutes attended.")]
    )
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class MarkAllForm(PortalForm):
    pass


class MakeupForm(PortalForm):
    """Ask to join a session of another cohort (the session is in the address)."""


class DecisionForm(PortalForm):
    decision = SelectField("Decision", choices=[SelectChoice("accept", "Accept"), SelectChoice("decline", "Decline")])


class FeedbackForm(PortalForm):
    usefulness = RadioField(
        "How useful was this session?",
        choices=[
            SelectChoice("1", "1 (not useful)"),
            SelectChoice("2", "2"),
            SelectChoice("3", "3"),
            SelectChoice("4", "4"),
            SelectChoice("5", "5 (very useful)"),
        ],
        validators=[InputRequired("Choose from 1 to 5.")],
    )
    helped = TextAreaField("One thing that helped (optional)", validators=[Optional(), Length(max=1000)])
    suggestion = TextAreaField("One suggestion (optional)", validators=[Optional(), Length(max=1000)])


class SettingsForm(PortalForm):
    min_minutes = IntegerField(
        "Minutes needed for a week to count",
        validators=[InputRequired("Enter the minutes."), NumberRange(min=0, max=120, message="From 0 to 120.")],
    )
    counted = CheckboxesField(
        "Statuses that count as attended",
        choices=[
            SelectChoice("present", "Present"),
            SelectChoice("late", "Late"),
            SelectChoice("left_early", "Left early"),
        ],
        validators=[DataRequired("Choose at least one status.")],
        description="Excused and absent never count as attended.",
    )
