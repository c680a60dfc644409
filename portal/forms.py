"""Form pieces every area shares: the base form that applies the input policy to every field,
checkbox lists, time-zone choices, and coercions for ids."""

from __future__ import annotations

from datetime import date
from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
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


# --- rendering ---------------------------------------------------------------------------------
# WTForms writes each attribute of a control through Markup.format (Python's string.Formatter,
# ~10 µs an attribute) and looks up a select's render_option signature with inspect on every
# select: a filter form of a search box and two selects cost ~0.3 ms, a tenth of a list page.
# The widgets below write the same bytes (tests/test_forms_render.py compares them with
# WTForms' own on every kind of control the portal uses); fields get them when their form binds.


def html_attributes(**attributes) -> str:
    """wtforms.widgets.html_params, byte for byte, without Markup.format: sorted by name, a
    trailing _ dropped (class_), data_/aria_ written with hyphens, True as a bare attribute,
    False left out, values escaped (a double quote as &quot;)."""
    parts = []
    for key, value in sorted(attributes.items()):
        key = widgets.core.clean_key(key)
        if value is True:
            parts.append(str(escape(key)))
        elif value is not False:
            parts.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return " ".join(parts)


class _FastTextArea(widgets.TextArea):
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        attributes, text = html_attributes(name=field.name, **kwargs), escape(field._value())
        return Markup(f"<textarea {attributes}>\r\n{text}</textarea>")  # noqa: S704 - both escaped


class _FastSelect(widgets.Select):
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_attributes(name=field.name, **kwargs)}>"]
        if field.has_groups():
            for group, choices in field._iter_groups_normalized():
                if group is not None:
                    html.append(f"<optgroup {html_attributes(label=group)}>")
                html.extend(self.render_option(choice) for choice in choices)
                if group is not None:
                    html.append("</optgroup>")
        else:
            html.extend(self.render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 - escaped piece by piece

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        attributes, label = html_attributes(**options), escape(choice.label or choice.value)
        return Markup(f"<option {attributes}>{label}</option>")  # noqa: S704 - both escaped


_FAST_CLASSES: dict[type, type] = {widgets.TextArea: _FastTextArea, widgets.Select: _FastSelect}
_fast_widgets: dict[int, tuple] = {}


def _fast_widget(widget):
    """The fast twin of one of WTForms' stock widgets (the same settings: input type, multiple),
    or None for any other widget. Stock widgets are a few shared instances: one twin each."""
    entry = _fast_widgets.get(id(widget))
    if entry is None:
        kind = type(widget)
        if kind in _FAST_CLASSES:
            fast_class = _FAST_CLASSES[kind]
        elif isinstance(widget, widgets.Input) and kind.__module__ == widgets.Input.__module__:
            # Input and its subclasses call self.html_params: a subclass with ours is all it takes.
            fast_class = _FAST_CLASSES.setdefault(
                kind, type(kind.__name__, (kind,), {"html_params": staticmethod(html_attributes)})
            )
        else:
            return None
        twin = fast_class.__new__(fast_class)
        twin.__dict__.update(widget.__dict__)
        # The widget is kept with its twin, so its id is never another object's.
        entry = _fast_widgets[id(widget)] = (widget, twin)
    return entry[1]


class PortalForm(FlaskForm):
    """Every form of the portal: the input policy (portal.inputs) runs on every field after
    the field's own checks, so no form can forget it."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            """Fields drawn by WTForms' stock widgets get their fast twins (see above)."""
            if "widget" not in unbound_field.kwargs:
                twin = _fast_widget(getattr(unbound_field.field_class, "widget", None))
                if twin is not None:
                    options = {**options, "widget": twin}
            return super().bind_field(form, unbound_field, options)

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
