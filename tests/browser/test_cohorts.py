"""A facilitator's key flow in a real browser: create a cohort, see six sessions, add
trainees, pair dyads, swap two people without a full page reload."""

from __future__ import annotations

import re
from datetime import date

from portal.models import Role
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD

COHORT_PAGE = re.compile(r".*/cohorts/\d+(#.*)?$")


def test_facilitator_creates_a_cohort_pairs_and_swaps_without_reload(page, make_user):
    # An admin who is also a facilitator can create cohorts and run them.
    lead = make_user("lead@example.org", roles=[Role.ADMIN, Role.FACILITATOR], name="Lee Lead")
    for n in range(1, 6):
        make_user(f"walker{n}@example.org", roles=[Role.TRAINEE], name=f"Walker {n}", organisation=f"Org {n % 2}")
    sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/admin")

    page.goto("/cohorts/new")
    page.get_by_label("Cohort name").fill("Browser Cohort")
    page.get_by_label("Lee Lead (lead@example.org)").check()
    page.get_by_label("Date of week 1").fill("2027-04-05")
    page.get_by_label("Start time (in the cohort's time zone)").fill("18:00")
    page.get_by_label("Meeting link (video room)").fill("https://video.example.org/browser")
    page.get_by_role("button", name="Create the cohort").click()
    page.wait_for_url(COHORT_PAGE)
    assert page.locator("ol.sessions > li.session").count() == 6
    assert page.get_by_role(
        "heading", name="Week 6: Pulling it All Together and Certification Celebration"
    ).is_visible()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Add trainees").click()
    page.wait_for_url("**/roster/add")
    for n in range(1, 6):
        page.get_by_label(f"Walker {n} (walker{n}@example.org)").check()
    page.get_by_role("button", name="Add the people I chose").click()
    page.wait_for_url(COHORT_PAGE)
    # The answer is next to the roster (issue 8), not in the message area at the top.
    assert "5 added to the roster." in page.locator("#roster-message").inner_text()
    assert page.get_by_role("heading", name="Roster: 5 of 12 places taken").is_visible()

    page.evaluate("() => { window.__sameDocument = 'yes'; }")
    page.get_by_role("button", name="Pair everyone").click()
    page.get_by_text("2 pairs formed (one is a group of three).").wait_for()
    # The button was replaced by the swap: keyboard focus moves to the new pairs section.
    # The button was replaced by the swap: keyboard focus moves to the answer, next to it.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'dyads-message'")
    pairs = page.locator("ol.dyads > li")

    def groups():
        return [frozenset(n.strip() for n in pairs.nth(i).inner_text().split("&")) for i in range(pairs.count())]

    before = groups()
    assert sorted(len(g) for g in before) == [2, 3]
    pair_a, pair_b = before
    person_a, person_b = sorted(pair_a)[0], sorted(pair_b)[0]

    # Each option says who the person is with now: "Walker 1 (with Walker 3)".
    page.get_by_label("Swap", exact=True).select_option(
        page.locator("#first option", has_text=f"{person_a} (").get_attribute("value")
    )
    page.get_by_label("with", exact=True).select_option(
        page.locator("#second option", has_text=f"{person_b} (").get_attribute("value")
    )
    page.get_by_role("button", name="Swap these two").click()
    page.get_by_text("The two people swapped places.").wait_for()
    assert sorted(groups(), key=len) == sorted(
        [(pair_a - {person_a}) | {person_b}, (pair_b - {person_b}) | {person_a}], key=len
    )
    # Everything since the roster happened in the same document: no full reload.
    assert page.evaluate("() => window.__sameDocument") == "yes"
    assert page.console.problems == []


def test_inline_reschedule_and_trainee_dashboard_pass_axe(page, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran", time_zone="America/New_York")
    trainee = make_user(roles=[Role.TRAINEE], name="Tia")
    cohort = make_cohort(facilitators=[fran], trainees=[trainee], first_day=date(2027, 3, 1))
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    assert axe_violations(page) == []
    page.goto(f"/cohorts/{cohort.id}")
    page.evaluate("() => { window.__sameDocument = 'yes'; }")
    page.get_by_role("link", name="Change date, time or link for week 2").click()
    page.get_by_label("Start time").fill("19:15")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Week 2 moved to").wait_for()
    assert "Mon 8 Mar 2027, 19:15 EST" in page.locator(f"#session-{cohort.session_ids[1]}").inner_text()
    assert page.evaluate("() => window.__sameDocument") == "yes"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    sign_in(page, trainee.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    assert page.get_by_role("heading", name="Your next session").is_visible()
    assert axe_violations(page) == []
    page.goto(f"/cohorts/{cohort.id}")
    assert axe_violations(page) == []
    page.goto("/calendar")
    assert axe_violations(page) == []


def test_the_facilitator_flow_works_without_javascript(no_js_page, make_user):
    page = no_js_page
    lead = make_user("nojs@example.org", roles=[Role.ADMIN, Role.FACILITATOR], name="Nia NoScript")
    for n in range(1, 5):
        make_user(f"plain{n}@example.org", roles=[Role.TRAINEE], name=f"Plain {n}")
    sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/admin")
    page.goto("/cohorts/new")
    page.get_by_label("Cohort name").fill("Plain Cohort")
    page.get_by_label("Nia NoScript (nojs@example.org)").check()
    page.get_by_label("Date of week 1").fill("2027-06-07")
    page.get_by_label("Start time (in the cohort's time zone)").fill("10:00")
    page.get_by_role("button", name="Create the cohort").click()
    page.wait_for_url(COHORT_PAGE)
    assert page.locator("ol.sessions > li.session").count() == 6
    page.get_by_role("link", name="Change date, time or link for week 3").click()
    page.wait_for_url("**/sessions/*/edit")
    page.get_by_label("Start time").fill("11:30")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(COHORT_PAGE)
    # The answer is at the session that moved (the redirect lands on it).
    assert "Week 3 moved to" in page.locator(".session .place-message[data-fresh]").inner_text()
    page.get_by_role("button", name="Add trainees").click()
    for n in range(1, 5):
        page.get_by_label(f"Plain {n} (plain{n}@example.org)").check()
    page.get_by_role("button", name="Add the people I chose").click()
    page.wait_for_url(COHORT_PAGE)
    page.get_by_role("button", name="Pair everyone").click()
    page.wait_for_url(COHORT_PAGE)
    assert page.locator("ol.dyads > li").count() == 2
    page.select_option("#second", page.locator("#first").input_value())
    page.get_by_role("button", name="Swap these two").click()  # the same person twice: refused, explained
    page.wait_for_url(COHORT_PAGE)
    assert "Choose two different people to swap." in page.locator("#dyads-message").inner_text()


def test_pages_of_the_roster_pass_axe(page, make_user, make_cohort):
    lead = make_user(roles=[Role.ADMIN, Role.FACILITATOR], name="Axe Lead")
    trainee = make_user(roles=[Role.TRAINEE], name="Axe Trainee")
    make_user(roles=[Role.TRAINEE], name="Not yet added")
    cohort = make_cohort(facilitators=[lead], trainees=[trainee])
    sign_in(page, lead.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/admin")
    for path in (
        "/cohorts",
        "/cohorts/new",
        f"/cohorts/{cohort.id}/settings",
        f"/cohorts/{cohort.id}/roster/add",
        f"/cohorts/{cohort.id}/roster/{cohort.enrollment_ids[0]}",
        f"/sessions/{cohort.session_ids[0]}",
    ):
        page.goto(path)
        assert axe_violations(page) == [], path
    page.goto(f"/cohorts/{cohort.id}/roster/add")
    page.get_by_label("Emails, or name,email lines").fill("not-an-email\nok@example.org")
    page.get_by_role("button", name="Check and add").click()
    page.get_by_text("1 line cannot be added.").wait_for()
    assert axe_violations(page) == []
