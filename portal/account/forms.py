from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, Regexp


@cache
def time_zone_choices() -> list[SelectChoice]:
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [SelectChoice("UTC")] + [SelectChoice(z, z.replace("_", " ")) for z in names]


class ProfileForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired("Enter your name."), Length(max=120)])
    pronouns = StringField(
        "Pronouns (optional)", validators=[Optional(), Length(max=40)], description="For example: she/her, they/them."
    )
    time_zone = SelectField(
        "Time zone",
        choices=time_zone_choices,
        validate_choice=True,
        description="Session times are shown in this zone.",
    )
    phone = TelField(
        "Phone (optional)",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^\+?[0-9 ()\-.]{6,}$", message="Use digits, spaces and + ( ) - only."),
        ],
        description="Only the programme team and your facilitators see it.",
    )
    organisation = StringField(
        "Workplace (optional)",
        validators=[Optional(), Length(max=160)],
        description="Used to pair you with someone from another workplace.",
    )
