from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice
from wtforms.validators import AnyOf, DataRequired

from portal.forms import PortalForm
from portal.notifications.core import MODES


class MailForm(PortalForm):
    mode = RadioField(
        "Mail me about notifications",
        choices=[SelectChoice(key, label) for key, label in MODES.items()],
        validators=[DataRequired("Choose how you want to be mailed.")],
    )


class FollowForm(PortalForm):
    action = HiddenField(validators=[AnyOf(("follow", "unfollow"), message="Follow or unfollow.")])


class ButtonForm(PortalForm):
    """A form that is only a button (and its CSRF token)."""
