"""The portal's fast form widgets (portal.forms) write exactly what WTForms' own widgets write,
for every kind of control the portal uses, whatever the values and attributes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FileField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.forms import CheckboxesField, QueryForm, html_attributes

TEXT = st.text(alphabet=st.sampled_from(list('ab <>&"\'=é\u202e')), max_size=12)
KEYS = st.sampled_from(["class_", "data_role_x", "aria_describedby", "autocomplete", "placeholder", "for", "rows"])
VALUES = st.one_of(TEXT, TEXT.map(Markup), st.integers(-5, 500), st.booleans())


@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    assert html_attributes(**attributes) == widgets.html_params(**attributes)


def fields():
    choices = [SelectChoice("", "Any"), SelectChoice("a", 'A "quoted" <one>'), SelectChoice("b&c", "B & C")]
    groups = [SelectChoice("x", "X", optgroup="First"), SelectChoice("y", "Y <why>", optgroup="Second & last"),
              SelectChoice("z", "Z", optgroup="Second & last")]
    return {
        "text": StringField("Name", [DataRequired(), Length(max=40)]),
        "email": EmailField("Email", [Optional()]),
        "password": PasswordField("Password", [DataRequired(), Length(min=8)]),
        "search": SearchField("Find"),
        "tel": TelField("Phone"),
        "url": URLField("Link"),
        "number": IntegerField("Count", [Optional(), NumberRange(min=1, max=9)]),
        "day": DateField("Day", [Optional()]),
        "time": TimeField("Time", [Optional()]),
        "hidden": HiddenField(),
        "flag": BooleanField("Yes"),
        "upload": FileField("File"),
        "note": TextAreaField("Note", [Length(max=500)]),
        "pick": SelectField("Pick", choices=choices),
        "grouped": SelectField("Grouped", choices=groups),
        "many": SelectMultipleField("Many", choices=choices),
        "radio": RadioField("One", choices=choices[1:]),
        "boxes": CheckboxesField("Boxes", choices=choices[1:]),
    }


class Stock(Form):
    locals().update(fields())


class Fast(QueryForm):
    locals().update(fields())


@settings(max_examples=40, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "text": TEXT, "email": TEXT, "search": TEXT, "tel": TEXT, "url": TEXT, "number": TEXT,
            "day": TEXT, "time": TEXT, "hidden": TEXT, "note": TEXT, "flag": st.sampled_from(["", "y"]),
            "pick": st.sampled_from(["", "a", "b&c", "nope"]), "grouped": st.sampled_from(["x", "y", "z"]),
            "radio": st.sampled_from(["a", "b&c"]),
        }
    ),
    st.dictionaries(KEYS, VALUES, max_size=3),
)
def test_every_control_is_written_as_wtforms_writes_it(app, values, attributes):
    data = MultiDict(values)
    data.setlist("many", ["a", "b&c"])
    data.setlist("boxes", ["b&c"])
    with app.test_request_context("/"):
        fast, stock = Fast(formdata=data), Stock(formdata=data)
        for name in fields():
            kwargs = dict(attributes)
            if name == "radio":
                kwargs.pop("for", None)
            assert fast[name](**kwargs) == stock[name](**kwargs), name
            assert fast[name].label() == stock[name].label(), name
        # ... and they are the portal's own widgets, not WTForms' (which would pass this test too).
        assert type(fast.pick.widget) is not widgets.Select and type(fast.text.widget) is not widgets.TextInput


@pytest.mark.parametrize("path", ["/admin/users?q=%22a%22&role=admin", "/cohorts?status=enrolling"])
def test_filter_forms_keep_what_was_asked(client, auth, make_user, path):
    """The list pages' filters, drawn by the fast widgets, show the search back and the choice."""
    from portal.models import Role

    auth.login_as(make_user(roles=[Role.ADMIN]))
    html = client.get(path).get_data(as_text=True)
    if "q=" in path:
        assert 'value="&#34;a&#34;"' in html or 'value="&quot;a&quot;"' in html
        assert '<option selected value="admin">' in html
    else:
        assert '<option selected value="enrolling">' in html
