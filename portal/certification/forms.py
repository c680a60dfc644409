from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.assessment.competencies import COMPETENCIES, label
from portal.forms import CheckboxesField, PortalForm, QueryForm


class ChoiceForm(PortalForm):
    certificate_name = StringField(
        "Your name as printed on the certificate",
        validators=[Optional(), Length(max=200)],
        description="Leave empty to use your display name. After the certificate is issued, ask an admin to change it.",
    )
    celebrate = BooleanField("Show me on my cohort's celebration page")
    message = TextAreaField(
        "A short message for the celebration page (optional)", validators=[Optional(), Length(max=280)]
    )


class _SharedPage(PortalForm):
    """Two forms on one page, each with a prefix: the app-wide CSRFProtect checks the page's one
    plain `csrf_token` field (or the htmx header) before the route runs."""

    class Meta:
        csrf = False


class RevokeForm(_SharedPage):
    reason = StringField(
        "Why is this certificate revoked?", validators=[DataRequired("Give the reason for revoking."), Length(max=300)]
    )


class ReissueForm(_SharedPage):
    holder_name = StringField(
        "Name to print on the new certificate", validators=[DataRequired("Write the name to print."), Length(max=200)]
    )
    reason = StringField(
        "Why is it reissued?", validators=[DataRequired("Give the reason for reissuing."), Length(max=300)]
    )


class ApproveForm(PortalForm):
    pass


class SettingsForm(PortalForm):
    min_weeks = IntegerField(
        "Weeks that must be covered (of 6)", validators=[InputRequired("Enter a number of weeks."), NumberRange(0, 6)]
    )
    min_hours = IntegerField(
        "Minimum live hours (0: none beyond the weeks)",
        validators=[InputRequired("Enter a number of hours."), NumberRange(0, 12)],
    )
    required = CheckboxesField("Competencies required", choices=[SelectChoice(str(n), label(n)) for n in COMPETENCIES])
    pass_percent = IntegerField(
        "Passing score of the written test (%)",
        validators=[InputRequired("Enter the passing score."), NumberRange(1, 100)],
    )
    needs_approval = BooleanField("Issue certificates only when a facilitator approves them")


class VerifyForm(QueryForm):
    code = StringField(
        "Certificate code", validators=[DataRequired("Enter the code printed on the certificate."), Length(max=64)]
    )
