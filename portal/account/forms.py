from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.auth.forms import SHARE_HINT, SHARE_LABEL
from portal.forms import PortalForm, time_zone_choices


class ProfileForm(PortalForm):
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
        description=(
            "The programme team and your facilitators see it; your partner and supervisor only if you choose below."
        ),
    )
    organisation = StringField(
        "Workplace (optional)",
        validators=[Optional(), Length(max=160)],
        description="Used to pair you with someone from another workplace.",
    )
    shares_contact = BooleanField(SHARE_LABEL, description=SHARE_HINT)
