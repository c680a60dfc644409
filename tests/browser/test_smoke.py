"""Key flows in a real browser, with the portal's real CSP in force."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests.browser.conftest import axe_violations, sign_in
from tests.browser.test_cohortsux import in_view
from tests.conftest import DEFAULT_PASSWORD


def test_facilitator_signs_in_and_an_htmx_save_swaps_without_reload(page, make_user):
    person = make_user("fran@example.org", roles=[Role.FACILITATOR], name="Fran Facilitator")
    sign_in(page, person.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    assert page.get_by_role("heading", name="Your cohorts", level=1).is_visible()
    page.evaluate("() => { window.__sameDocument = 'yes'; }")

    page.get_by_role("link", name="Edit your details").click()
    page.wait_for_url("**/account")
    page.get_by_label("Pronouns (optional)").fill("she/her")
    page.get_by_role("button", name="Save my details").click()
    page.get_by_text("Your details are saved.", exact=True).wait_for()
    # The answer is next to the button (not in the message area at the top), in view, with focus.
    assert page.locator("#profile-message").inner_text().strip() == "Your details are saved."
    assert page.locator("#messages").inner_text().strip() == ""
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'profile-message'")
    assert in_view(page, "#profile-message")
    # htmx swapped the form in place: the same document, never a full reload.
    assert page.evaluate("() => window.__sameDocument") == "yes"
    assert page.get_by_label("Pronouns (optional)").input_value() == "she/her"
    assert page.console.problems == []


def test_form_errors_are_swapped_in_next_to_the_field(page, make_user):
    person = make_user(roles=[Role.TRAINEE])
    sign_in(page, person.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    page.goto("/account")
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save my details").click()
    error = page.locator("#display_name-error")
    error.wait_for()
    assert error.inner_text() == "Enter your name."
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"


def test_sign_in_and_save_work_without_javascript(no_js_page, make_user):
    page = no_js_page
    person = make_user(roles=[Role.SUPERVISOR])
    sign_in(page, person.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/supervisor")
    page.goto("/account")
    page.get_by_label("Pronouns (optional)").fill("they/them")
    page.get_by_role("button", name="Save my details").click()
    page.wait_for_url("**/account#profile-message")
    assert "Your details are saved." in page.locator("#profile-message").inner_text()
    assert in_view(page, "#profile-message")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


@pytest.mark.parametrize("role", list(Role))
def test_dashboards_pass_axe(page, make_user, role):
    person = make_user(roles=[role])
    sign_in(page, person.email, DEFAULT_PASSWORD)
    page.wait_for_url(f"**/dashboard/{role.value}")
    assert axe_violations(page) == []
    page.goto("/account")
    assert axe_violations(page) == []


def test_sign_in_page_passes_axe(page):
    page.goto("/login")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    page.locator(".error-summary").wait_for()
    assert axe_violations(page) == []


def test_admin_pages_pass_axe(page, make_user):
    admin = make_user(roles=[Role.ADMIN])
    other = make_user(roles=[Role.TRAINEE])
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/admin")
    for path in ("/admin/users", f"/admin/users/{other.id}", "/admin/invitations/new", "/admin/audit"):
        page.goto(path)
        assert axe_violations(page) == [], path


def test_a_stale_token_in_an_htmx_form_loses_nothing(page, make_user):
    person = make_user(roles=[Role.TRAINEE])
    sign_in(page, person.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    page.goto("/account")
    page.get_by_label("Pronouns (optional)").fill("ze/zir")
    # As if the page had outlived its token: break every token on the page.
    page.evaluate(
        """() => {
            document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'stale'}));
            document.querySelectorAll('input[name=csrf_token]').forEach(i => { i.value = 'stale'; });
        }"""
    )
    page.get_by_role("button", name="Save my details").click()
    page.get_by_text("This form had expired").wait_for()
    assert page.get_by_label("Pronouns (optional)").input_value() == "ze/zir"  # still typed in
    page.get_by_role("button", name="Save my details").click()  # press again: the token was refreshed
    page.locator("#profile-message").get_by_text("Your details are saved.").wait_for()
    page.reload()
    assert page.get_by_label("Pronouns (optional)").input_value() == "ze/zir"
