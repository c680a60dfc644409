from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal.auth.passwords import password_problem


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
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


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
