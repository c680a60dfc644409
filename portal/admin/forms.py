from __future__ import annotations

from wtforms import DateField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.forms import CheckboxesField, PortalForm, QueryForm
from portal.models import ROLE_ORDER

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in ROLE_ORDER]


class InviteForm(PortalForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter an email address."), Email("Enter a valid email address."), Length(max=254)],
    )
    display_name = StringField("Name (optional)", validators=[Optional(), Length(max=120)])
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role.")])


class RolesForm(PortalForm):
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES)


class DeactivateForm(PortalForm):
    reason = StringField("Reason (kept in the audit log)", validators=[Optional(), Length(max=200)])


class UserSearchForm(QueryForm):
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


class AuditFilterForm(QueryForm):
    """The audit log's filters (read from the query string; choices set by the route)."""

    who = SelectField("Who", validators=[Optional()])
    kind = SelectField("What kind of change", validators=[Optional()])
    cohort = SelectField("Cohort", validators=[Optional()])
    date_from = DateField("From (day)", validators=[Optional()])
    date_to = DateField("To (day, included)", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The last day is before the first day.")
