from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.exams.draw import COMPETENCIES, DEFAULT_BLUEPRINT, WEEKS
from portal.forms import CheckboxesField, PortalForm, QueryForm, coerce_id

WEEK_CHOICES = [SelectChoice(str(w), f"Week {w}: {t}") for w, t in WEEKS.items()]
COMPETENCY_CHOICES = [SelectChoice(str(c), f"{c}. {t}") for c, t in COMPETENCIES.items()]
STATUS_CHOICES = [SelectChoice("draft", "Draft"), SelectChoice("active", "Active"), SelectChoice("retired", "Retired")]


def _int_or_none(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("Not a valid choice.") from None


class BankFilterForm(QueryForm):
    q = StringField("Search titles and questions", validators=[Optional(), Length(max=100)])
    week = SelectField(
        "Week", choices=[SelectChoice("", "Any week")] + WEEK_CHOICES, coerce=_int_or_none, validators=[Optional()]
    )
    competency = SelectField(
        "Competency",
        choices=[SelectChoice("", "Any competency")] + COMPETENCY_CHOICES,
        coerce=_int_or_none,
        validators=[Optional()],
    )
    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + STATUS_CHOICES, validators=[Optional()])


class ItemForm(PortalForm):
    title = StringField(
        "Title (for the bank, not shown to trainees)",
        validators=[DataRequired("Give the item a title."), Length(max=200)],
    )
    stem = TextAreaField(
        "Question",
        validators=[DataRequired("Write the question."), Length(max=4000)],
        description="Light Markdown: *emphasis*, **strong**, lists, links.",
    )
    option_1 = StringField("Option 1", validators=[Optional(), Length(max=500)])
    option_2 = StringField("Option 2", validators=[Optional(), Length(max=500)])
    option_3 = StringField("Option 3", validators=[Optional(), Length(max=500)])
    option_4 = StringField("Option 4", validators=[Optional(), Length(max=500)])
    option_5 = StringField("Option 5", validators=[Optional(), Length(max=500)])
    option_6 = StringField("Option 6", validators=[Optional(), Length(max=500)])
    correct = SelectField(
        "The correct option", choices=[SelectChoice(str(i), f"Option {i}") for i in range(1, 7)], coerce=int
    )
    rationale = TextAreaField("Rationale (shown in the review)", validators=[Optional(), Length(max=4000)])
    week = SelectField("Week", choices=WEEK_CHOICES, coerce=int)
    competency = SelectField("Competency", choices=COMPETENCY_CHOICES, coerce=int)
    status = SelectField("Status", choices=STATUS_CHOICES, default="draft")

    def options(self) -> list[str]:
        return [
            getattr(self, f"option_{i}").data.strip()
            for i in range(1, 7)
            if (getattr(self, f"option_{i}").data or "").strip()
        ]

    def validate_option_2(self, field):
        filled = [i for i in range(1, 7) if (getattr(self, f"option_{i}").data or "").strip()]
        if len(filled) < 2:
            raise ValidationError("Write at least two options.")
        if filled != list(range(1, len(filled) + 1)):
            raise ValidationError("Fill the options in order, without gaps.")

    def validate_correct(self, field):
        if not (
            getattr(self, f"option_{field.data}", None) and (getattr(self, f"option_{field.data}").data or "").strip()
        ):
            raise ValidationError("The correct option must be one you wrote.")


class ImportForm(PortalForm):
    kind = SelectField("File format", choices=[SelectChoice("gift", "GIFT (Moodle)"), SelectChoice("csv", "CSV")])
    file = FileField("File (.txt, .gift or .csv)")
    source = TextAreaField("…or paste the questions", validators=[Optional(), Length(max=500_000)])
    week = SelectField(
        "Week for items whose category names none",
        choices=[SelectChoice("", "Choose…")] + WEEK_CHOICES,
        coerce=_int_or_none,
        validators=[Optional()],
    )
    competency = SelectField(
        "Competency for items whose category names none",
        choices=[SelectChoice("", "Choose…")] + COMPETENCY_CHOICES,
        coerce=_int_or_none,
        validators=[Optional()],
    )
    status = SelectField("Status of new items", choices=STATUS_CHOICES[:2], default="draft")


class OfferingForm(PortalForm):
    opens_at = DateTimeLocalField(
        "Opens (UTC)",
        validators=[DataRequired("When does the test open?")],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    closes_at = DateTimeLocalField(
        "Closes (UTC)",
        validators=[DataRequired("When does the test close?")],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    time_limit = IntegerField(
        "Time limit in minutes (0: none)",
        default=60,
        validators=[InputRequired("Enter a time limit, or 0."), NumberRange(0, 600)],
    )
    attempts_allowed = IntegerField("Attempts allowed", default=2, validators=[InputRequired(), NumberRange(1, 10)])
    wait_hours = IntegerField("Hours between attempts", default=24, validators=[InputRequired(), NumberRange(0, 720)])
    week_1 = IntegerField("Week 1", default=DEFAULT_BLUEPRINT[0], validators=[InputRequired(), NumberRange(0, 40)])
    week_2 = IntegerField("Week 2", default=DEFAULT_BLUEPRINT[1], validators=[InputRequired(), NumberRange(0, 40)])
    week_3 = IntegerField("Week 3", default=DEFAULT_BLUEPRINT[2], validators=[InputRequired(), NumberRange(0, 40)])
    week_4 = IntegerField("Week 4", default=DEFAULT_BLUEPRINT[3], validators=[InputRequired(), NumberRange(0, 40)])
    week_5 = IntegerField("Week 5", default=DEFAULT_BLUEPRINT[4], validators=[InputRequired(), NumberRange(0, 40)])
    week_6 = IntegerField("Week 6", default=DEFAULT_BLUEPRINT[5], validators=[InputRequired(), NumberRange(0, 40)])
    required = CheckboxesField(
        "Each attempt covers at least one item of these competencies", choices=COMPETENCY_CHOICES, coerce=int
    )
    review_at_once = BooleanField(
        "Trainees may review missed items as soon as they submit (otherwise when the window closes)"
    )

    def blueprint(self) -> list[int]:
        return [getattr(self, f"week_{w}").data or 0 for w in range(1, 7)]

    def validate_closes_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError("The test must close after it opens.")

    def validate_week_6(self, field):
        if all(getattr(self, f"week_{w}").data is not None for w in range(1, 7)) and sum(self.blueprint()) != 40:
            raise ValidationError(f"The weeks add up to {sum(self.blueprint())}: the test has 40 items.")


class GrantForm(PortalForm):
    grant_person = SelectField("Trainee", coerce=coerce_id, validate_choice=True)


class ExtraTimeForm(PortalForm):
    time_person = SelectField("Trainee", coerce=coerce_id, validate_choice=True)
    minutes = IntegerField("Extra minutes", default=15, validators=[InputRequired(), NumberRange(1, 240)])


class AnswersForm(PortalForm):
    """The test page's form: the answers themselves are fields named a-<item> (the shown
    position of the chosen option) and f-<item> (flagged), read by routes with strict checks;
    `items` lists the items the page showed."""


class SubmitForm(PortalForm):
    pass


class StartForm(PortalForm):
    pass
