from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from portal import inputs
from portal.cohorts.curriculum import WEEKS
from portal.forms import CheckboxesField, PortalForm, QueryForm, coerce_id, coerce_id_or_zero, time_zone_choices

WEEK_CHOICES = [SelectChoice(str(w.number), f"Week {w.number}: {w.title}") for w in WEEKS]


class CohortForm(PortalForm):
    name = StringField("Cohort name", validators=[DataRequired("Give the cohort a name."), Length(max=120)])
    facilitators = CheckboxesField(
        "Facilitators", coerce=coerce_id, validators=[DataRequired("Choose at least one facilitator.")]
    )
    first_day = DateField("Date of week 1", validators=[DataRequired("Enter the date of the first session.")])
    start_time = TimeField("Start time (in the cohort's time zone)", validators=[DataRequired("Enter a start time.")])
    time_zone = SelectField("Cohort time zone", choices=time_zone_choices, default="America/New_York")
    meeting_url = URLField(
        "Meeting link (video room)",
        validators=[Optional(), Length(max=500)],
        description="Trainees see it shortly before each session starts.",
    )
    capacity = IntegerField(
        "Places",
        default=12,
        validators=[InputRequired("Enter the number of places."), NumberRange(2, 200, "Between 2 and 200 places.")],
    )
    notes = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=2000)])
    status = SelectField(
        "Status",
        choices=[SelectChoice("draft", "Draft (not yet open)"), SelectChoice("enrolling", "Enrolling")],
        default="enrolling",
    )
    confirm = HiddenField()  # "yes": the warnings were read


class CohortSettingsForm(PortalForm):
    name = StringField("Cohort name", validators=[DataRequired("Give the cohort a name."), Length(max=120)])
    facilitators = CheckboxesField(
        "Facilitators", coerce=coerce_id, validators=[DataRequired("Choose at least one facilitator.")]
    )
    meeting_url = URLField("Meeting link (video room)", validators=[Optional(), Length(max=500)])
    capacity = IntegerField(
        "Places",
        validators=[InputRequired("Enter the number of places."), NumberRange(2, 200, "Between 2 and 200 places.")],
    )
    notes = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=2000)])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("draft", "Draft"),
            SelectChoice("enrolling", "Enrolling"),
            SelectChoice("completed", "Completed"),
            SelectChoice("archived", "Archived"),
        ],
        description="Running and completed also follow the calendar: running from week 1, completed after week 6.",
    )


class SessionForm(PortalForm):
    day = DateField("Date", validators=[DataRequired("Enter a date.")])
    start_time = TimeField("Start time", validators=[DataRequired("Enter a start time.")])
    meeting_url = URLField(
        "Meeting link for this session (optional)",
        validators=[Optional(), Length(max=500)],
        description="Leave empty to use the cohort's room.",
    )
    confirm = HiddenField()


class AddTraineesForm(PortalForm):
    user_ids = CheckboxesField("Trainees", coerce=coerce_id, validators=[DataRequired("Choose at least one person.")])


class InviteListForm(PortalForm):
    people = TextAreaField(
        "Emails, or name,email lines",
        validators=[Optional(), Length(max=100_000)],
        description="One person per line: “Ana Lopez, ana@example.org” or just “ana@example.org”.",
    )
    csv_file = FileField("Or a CSV file with name,email")
    add_valid_only = HiddenField()


class WithdrawForm(PortalForm):
    reason = StringField("Reason", validators=[DataRequired("Say why, for the record."), Length(max=300)])


class SupervisorForm(PortalForm):
    supervisor_id = SelectField("Choose a supervisor", coerce=coerce_id_or_zero, validators=[Optional()])
    email = EmailField(
        "Or invite a supervisor by email",
        validators=[Optional(), Email("Enter a valid email address."), Length(max=254)],
    )
    name = StringField("Their name (for an invitation)", validators=[Optional(), Length(max=120)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.supervisor_id.data and not self.email.data:
            self.supervisor_id.errors.append("Choose a supervisor or enter an email.")
            return False
        return ok


# The pairing modes, first the default (the cohort page writes this select by hand).
PAIR_MODES = [
    SelectChoice("workplaces", "Keep people from the same workplace apart"),
    SelectChoice("random", "At random"),
]


class PairForm(PortalForm):
    mode = SelectField("How to pair", choices=PAIR_MODES)
    confirm = HiddenField()  # "yes": replacing the existing pairs was confirmed


class SwapForm(PortalForm):
    # The cohort page writes these two selects by hand (hundreds of options in a large cohort).
    first = SelectField("Swap", coerce=coerce_id)
    second = SelectField("with", coerce=coerce_id)


class HandoutForm(PortalForm):
    week = SelectField("Week", choices=WEEK_CHOICES)
    title = StringField("Title", validators=[DataRequired("Give the handout a title."), Length(max=200)])
    file = FileField("File (PDF, Word, PowerPoint, PNG or JPG; 20 MB at most)")
    link_url = URLField("Or a link", validators=[Optional(), Length(max=500)])
    scope = SelectField(
        "For",
        choices=[SelectChoice("cohort", "This cohort"), SelectChoice("programme", "Every cohort (programme handout)")],
        default="cohort",
    )


class CohortFilterForm(QueryForm):
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s, s.capitalize()) for s in ("draft", "enrolling", "running", "completed", "archived")],
        validators=[Optional()],
    )
    facilitator = SelectField("Facilitator", coerce=lambda v: coerce_id(v) if v else None, validators=[Optional()])
    month = StringField("Starting in (YYYY-MM)", validators=[Optional(), Length(max=7)])

    def validate_month(self, field):
        if field.data and inputs.parse_month(field.data) is None:
            raise ValidationError(f"Use the form 2026-11, a year from {inputs.MIN_YEAR} to {inputs.MAX_YEAR}.")
