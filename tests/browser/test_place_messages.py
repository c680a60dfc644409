"""The answer next to the control, in a real browser (issue 8): withdrawing from the roster,
setting a supervisor, and an admin's forms (roles, deactivate), with and without JavaScript,
the message is in view and, with JavaScript, has focus."""

from __future__ import annotations

import re

from portal.models import Role
from tests.browser.conftest import axe_violations, sign_in
from tests.browser.test_cohortsux import in_view
from tests.conftest import DEFAULT_PASSWORD


def _focused(page, element_id: str) -> bool:
    try:
        page.wait_for_function(
            "(id) => document.activeElement && document.activeElement.id === id", arg=element_id, timeout=3000
        )
    except Exception:  # noqa: BLE001 - reported by the assert
        return False
    return True


def _people(make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    sam = make_user(roles=[Role.SUPERVISOR], name="Sam Supervisor")
    trainees = [make_user(name=f"Trainee {n:02d}") for n in range(14)]
    cohort = make_cohort(facilitators=[fran], trainees=trainees, capacity=20)
    return fran, sam, trainees, cohort


def _walk(page, fran, sam, trainees, cohort, with_js: bool):
    page.set_default_timeout(10000)
    page.set_viewport_size({"width": 390, "height": 700})
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[-1]}")
    page.select_option("#supervisor_id", str(sam.id))
    page.get_by_role("button", name=re.compile("supervisor")).click()
    page.get_by_text("Sam Supervisor now supervises Trainee 13.").wait_for()
    assert in_view(page, "#supervisor-message")
    if with_js:
        assert _focused(page, "supervisor-message")
    page.get_by_label("Reason").fill("moved away")
    page.get_by_role("button", name="Withdraw Trainee 13").click()
    page.get_by_text("Trainee 13 is withdrawn; their history is kept.").wait_for()
    assert in_view(page, "#roster-message")
    if with_js:
        assert _focused(page, "roster-message")
        assert axe_violations(page) == []


def test_roster_answers_in_view_with_javascript(app, page, make_user, make_cohort):
    _walk(page, *_people(make_user, make_cohort), with_js=True)


def test_roster_answers_in_view_without_javascript(app, no_js_page, make_user, make_cohort):
    _walk(no_js_page, *_people(make_user, make_cohort), with_js=False)


def test_admin_answers_in_view_with_javascript(app, page, make_user):
    admin = make_user(roles=[Role.ADMIN], name="Ada Admin")
    pat = make_user(name="Pat Person")
    page.set_viewport_size({"width": 390, "height": 700})
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/**")
    page.goto(f"/admin/users/{pat.id}")
    page.get_by_label("Supervisor").check()
    page.get_by_role("button", name="Save roles").click()
    page.get_by_text("Roles of Pat Person saved.").wait_for()
    assert in_view(page, "#roles-message") and _focused(page, "roles-message")
    page.get_by_role("button", name="Deactivate and sign out everywhere").click()
    page.get_by_text("Pat Person is deactivated and signed out everywhere.").wait_for()
    assert in_view(page, "#account-message") and _focused(page, "account-message")
    assert axe_violations(page) == []
