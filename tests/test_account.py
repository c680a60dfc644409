"""Every person edits their own details and password."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Role, User
from tests.conftest import DEFAULT_PASSWORD, AuthActions, text_of


def test_edit_profile(app, client, auth, make_user):
    person = make_user()
    auth.login_as(person)
    response = client.post(
        "/account",
        data={
            "display_name": "Jo March",
            "pronouns": "she/her",
            "time_zone": "America/Chicago",
            "phone": "+1 555 0100",
        },
    )
    assert response.status_code == 303
    assert "Your details are saved" in text_of(client.get("/account"))
    with app.app_context():
        user = db.session.get(User, person.id)
        assert (user.display_name, user.pronouns, user.time_zone, user.phone) == (
            "Jo March",
            "she/her",
            "America/Chicago",
            "+1 555 0100",
        )


def test_invalid_profile_shows_errors_by_the_field_and_saves_nothing(app, client, auth, make_user):
    person = make_user(name="Before")
    auth.login_as(person)
    response = client.post("/account", data={"display_name": "", "time_zone": "Mars/Olympus", "phone": "call me maybe"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="display_name-error"' in html
    assert 'id="display_name-error"' in html and "Enter your name." in html
    assert "Not a valid choice" in html
    assert "Use digits, spaces" in html
    with app.app_context():
        user = db.session.get(User, person.id)
        assert user.display_name == "Before" and user.time_zone == "UTC"


def test_htmx_save_swaps_the_form_with_its_answer_next_to_the_button(client, auth, make_user, hx):
    from tests.test_place_messages import element

    auth.login_as(make_user())
    response = client.post("/account", data={"display_name": "Jo", "time_zone": "UTC"}, headers=hx)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="profile_form"')
    text, _ = element(body, "profile-message")
    assert text == "Your details are saved."
    assert 'data-fresh="1"' in body, "the portal's script moves focus to it"
    assert "Your details are saved" not in text_of(client.get("/account")), "said once, not again on the next page"
    assert "HX-Request" in response.headers["Vary"]


def test_change_password_signs_out_other_devices(app, client, auth, make_user):
    person = make_user()
    auth.login(person.email)
    phone = app.test_client()
    AuthActions(phone, app).login_as(person)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it at all", "password": "another long phrase", "confirm": "another long phrase"},
    )
    assert wrong.status_code == 422
    assert "not your current password" in text_of(wrong)
    ok = client.post(
        "/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "password": "another long phrase",
            "confirm": "another long phrase",
        },
    )
    assert ok.status_code == 303
    assert client.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302


def test_navigation_shows_only_what_a_person_may_use(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.TRAINEE]))
    page = client.get("/dashboard/trainee").get_data(as_text=True)
    assert 'href="/admin/users"' not in page
    assert 'href="/dashboard/facilitator"' not in page


def test_a_person_with_two_roles_can_reach_both_dashboards(client, auth, make_user):
    auth.login_as(make_user(roles=[Role.FACILITATOR, Role.TRAINEE]))
    assert client.get("/dashboard").headers["Location"] == "/dashboard/facilitator"
    page = client.get("/dashboard/facilitator").get_data(as_text=True)
    assert 'href="/dashboard/trainee"' in page and 'href="/dashboard/facilitator"' in page
    assert client.get("/dashboard/trainee").status_code == 200
