from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.models import ROLE_ORDER


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes: easier than a multi-select on a phone and with a screen reader."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in ROLE_ORDER]


class InviteForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter an email address."), Email("Enter a valid email address."), Length(max=254)],
    )
    display_name = StringField("Name (optional)", validators=[Optional(), Length(max=120)])
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role.")])


class RolesForm(FlaskForm):
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES)


class DeactivateForm(FlaskForm):
    reason = StringField("Reason (kept in the audit log)", validators=[Optional(), Length(max=200)])


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Search by name or email", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES], validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            SelectChoice("active", "Active"),
            SelectChoice("invited", "Invited"),
            SelectChoice("deactivated", "Deactivated"),
        ],
        validators=[Optional()],
    )
