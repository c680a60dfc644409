from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal.auth.passwords import password_problem
from portal.forms import PortalForm, time_zone_choices

SHARE_LABEL = "Show my email and phone to my practice partner and my supervisor"
SHARE_HINT = "So they can reach you between sessions. Nothing is shared unless you tick this; you can change it later."


class LoginForm(PortalForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(PortalForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )


class NewPasswordForm(PortalForm):
    """Choosing a password: after an invitation, a reset, or on the account page."""

    email_for_check: str | None = None
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password.")],
        description="At least 12 characters. A short sentence you can remember works well.",
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email_for_check)
        if problem:
            raise ValidationError(problem)


class AcceptInvitationForm(NewPasswordForm):
    display_name = StringField(
        "Your name as others will see it",
        validators=[DataRequired("Enter your name."), Length(max=120)],
    )
    time_zone = SelectField(
        "Your time zone",
        choices=time_zone_choices,
        validate_choice=True,
        default="UTC",
        description="Session times are shown in this zone.",
    )
    shares_contact = BooleanField(SHARE_LABEL, description=SHARE_HINT)


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
