"""The answer appears where the person acted (issue 8), for the roster, supervisor, cohort
settings and admin forms: after the action the redirect lands on #<place>-message, and the
message is inside the section of the control that was used (not in the message area at the
top of the page)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from portal.extensions import db
from portal.models import Role, User
from tests.conftest import text_of

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Element(HTMLParser):
    """The text inside the element with a given id, and the ids of the elements around it."""

    def __init__(self, wanted: str):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.stack: list[tuple[str, str | None]] = []
        self.depth: int | None = None
        self.text: list[str] = []
        self.ancestors: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        element_id = dict(attrs).get("id")
        self.stack.append((tag, element_id))
        if element_id == self.wanted and self.depth is None:
            self.depth = len(self.stack)
            self.ancestors = [i for _, i in self.stack[:-1] if i]

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        while self.stack:
            open_tag, _ = self.stack.pop()
            if self.depth is not None and len(self.stack) < self.depth:
                self.depth = -1  # closed: stop collecting
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.depth is not None and self.depth > 0:
            self.text.append(data)


def element(html: str, element_id: str) -> tuple[str, list[str]]:
    """(the text of the element with this id, the ids of the elements that contain it)."""
    parser = _Element(element_id)
    parser.feed(html)
    assert parser.ancestors is not None, f"no element #{element_id} on the page"
    return re.sub(r"\s+", " ", unescape("".join(parser.text))).strip(), parser.ancestors


def assert_answered_in(client, response, place: str, section: str, message: str) -> str:
    """The action redirected to #<place>-message; that page shows `message` there, inside
    #<section>, and not in the message area at the top."""
    assert response.status_code == 303, text_of(response)
    location = response.headers["Location"]
    assert location.endswith(f"#{place}-message"), location
    page = client.get(location.split("#")[0])
    html = page.get_data(as_text=True)
    text, ancestors = element(html, f"{place}-message")
    assert message in text, f"{message!r} not in #{place}-message: {text!r}"
    assert section in ancestors, f"#{place}-message is not inside #{section}: {ancestors}"
    top, _ = element(html, "messages")
    assert message not in top
    assert 'tabindex="-1"' in html.split(f'id="{place}-message"')[1][:80], "focusable, so it can take focus"
    return text


def test_adding_people_answers_next_to_the_roster(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    kim = make_user(name="Kim")
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(fran)
    picked = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [kim.id]})
    assert_answered_in(client, picked, "roster", "roster", "1 added to the roster.")
    invited = client.post(f"/cohorts/{cohort.id}/roster/invite", data={"people": "zoe@example.org\nyan@example.org"})
    assert_answered_in(client, invited, "roster", "roster", "2 added to the roster. 2 invitations sent.")


def test_a_roster_refusal_answers_next_to_the_picker(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    kim = make_user(name="Kim")
    cohort = make_cohort(facilitators=[fran], trainees=[kim])
    auth.login_as(fran)
    refused = client.post(f"/cohorts/{cohort.id}/roster/add", data={"user_ids": [kim.id]})
    assert_answered_in(client, refused, "add-existing", "candidates", "Kim is already on this roster.")


def test_withdrawing_answers_next_to_the_roster(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    tia = make_user(name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/withdraw", data={"reason": "moved away"}
    )
    assert_answered_in(client, response, "roster", "roster", "Tia is withdrawn; their history is kept.")


def test_setting_a_supervisor_answers_in_the_supervisor_section(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    sam = make_user(roles=[Role.SUPERVISOR], name="Sam")
    tia = make_user(name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[tia])
    auth.login_as(fran)
    response = client.post(
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}/supervisor", data={"supervisor_id": str(sam.id)}
    )
    assert_answered_in(client, response, "supervisor", "supervisor", "Sam now supervises Tia.")


def test_cohort_settings_answer_at_the_top_of_the_cohort_page(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    auth.login_as(make_user(roles=[Role.ADMIN]))
    response = client.post(
        f"/cohorts/{cohort.id}/settings",
        data={"name": "Renamed", "facilitators": [fran.id], "status": "enrolling", "capacity": "12"},
    )
    assert_answered_in(client, response, "settings", "main", "Cohort settings saved.")
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert html.index('id="settings-message"') < html.index('id="schedule"'), "beside the settings button"


def test_admin_forms_answer_in_their_section(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN])
    person = make_user(name="Pat")
    invited = make_user(name="Ivy", status="invited")
    auth.login_as(admin)
    roles = client.post(f"/admin/users/{person.id}/roles", data={"roles": ["trainee", "supervisor"]})
    assert_answered_in(client, roles, "roles", "roles", "Roles of Pat saved.")
    off = client.post(f"/admin/users/{person.id}/deactivate", data={"reason": "left"})
    assert_answered_in(client, off, "account", "account", "Pat is deactivated and signed out everywhere.")
    on = client.post(f"/admin/users/{person.id}/reactivate")
    assert_answered_in(client, on, "account", "account", "Pat can sign in again.")
    again = client.post(f"/admin/users/{invited.id}/invitation")
    assert_answered_in(client, again, "account", "account", "A new invitation was sent to")
    needless = client.post(f"/admin/users/{person.id}/invitation")
    assert_answered_in(client, needless, "account", "account", "Pat has already set a password.")
    new = client.post("/admin/invitations/new", data={"email": "new@example.org", "roles": ["trainee"]})
    assert_answered_in(client, new, "account", "account", "Invitation sent to new@example.org.")
    with app.app_context():
        assert db.session.execute(db.select(User).where(User.email == "new@example.org")).scalar_one()


def test_deactivating_oneself_is_refused_next_to_the_control(app, client, auth, make_user):
    admin = make_user(roles=[Role.ADMIN], name="Ada")
    auth.login_as(admin)
    response = client.post(f"/admin/users/{admin.id}/deactivate", data={"reason": ""})
    text = assert_answered_in(client, response, "account", "account", "You cannot deactivate your own account.")
    assert text == "You cannot deactivate your own account."


def test_a_new_calendar_address_answers_in_its_section(app, client, auth, make_user):
    auth.login_as(make_user())
    first = client.post("/calendar/link")
    assert_answered_in(client, first, "feed", "feed", "Your calendar address is ready.")
    again = client.post("/calendar/link")
    assert_answered_in(client, again, "feed", "feed", "You have a new calendar address. The old one no longer works.")
