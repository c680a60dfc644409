"""Form pieces every area shares: the base form that applies the input policy to every field,
checkbox lists, time-zone choices, and coercions for ids."""

from __future__ import annotations

from datetime import date
from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeField,
    IntegerField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.validators import ValidationError

from portal import inputs


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes: easier than a multi-select on a phone and with a screen reader."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


@cache
def time_zone_choices() -> list[SelectChoice]:
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [SelectChoice("UTC")] + [SelectChoice(z, z.replace("_", " ")) for z in names]


def _policy(field) -> str | None:
    """The input policy's word on one field's submitted value (None: fine)."""
    if isinstance(field, TextAreaField):
        return inputs.multi_line_problem(field.data)
    if isinstance(field, URLField):
        return inputs.link_problem(field.data)
    if isinstance(field, StringField):  # also email, password, search, tel and hidden fields
        return inputs.single_line_problem(field.data if isinstance(field.data, str) else None)
    if isinstance(field, DateField | DateTimeField) and isinstance(field.data, date):  # not TimeField
        return inputs.date_problem(field.data)
    if isinstance(field, IntegerField) and field.data is not None and abs(field.data) > inputs.MAX_ID:
        return "Enter a smaller number."
    return None


def _policy_validator(form, field):
    problem = _policy(field)
    if problem:
        raise ValidationError(problem)


class PortalForm(FlaskForm):
    """Every form of the portal: the input policy (portal.inputs) runs on every field after
    the field's own checks, so no form can forget it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The token's hidden input has no id: a page with several forms would repeat
        # id="csrf_token", and nothing points at it (WTForms leaves out an id of False).
        if "csrf_token" in self._fields:
            self.csrf_token.id = False

    def validate(self, extra_validators=None):
        extra = {name: list((extra_validators or {}).get(name, ())) for name in self._fields}
        for name in extra:
            extra[name].append(_policy_validator)
        return super().validate(extra)


class QueryForm(PortalForm):
    """A form read from the query string (a filter or a search): GET changes nothing, so no
    CSRF token."""

    class Meta:
        csrf = False


def coerce_id(value) -> int:
    """SelectField/CheckboxesField coerce for record ids (out-of-range ids are bad choices)."""
    return inputs.record_id(value)


def coerce_id_or_zero(value) -> int:
    """For a select whose first choice (0) means "none chosen"."""
    if value in (None, "", "0", 0):
        return 0
    return inputs.record_id(value)
