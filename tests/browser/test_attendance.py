"""Live check-in in two browsers: the facilitator opens check-in, a trainee in another browser
context types the code, and the facilitator's roll shows them present without a reload."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import CohortSession, Role, utcnow
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD


def test_trainee_checks_in_and_the_roll_updates_without_reload(browser, live_server, page, app, make_user, make_cohort):
    fran = make_user("fran.live@example.org", roles=[Role.FACILITATOR], name="Fran Live")
    ana = make_user("ana.live@example.org", name="Ana Live")
    ben = make_user("ben.live@example.org", name="Ben Live")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    sid = cohort.session_ids[0]
    with app.app_context():
        db.session.get(CohortSession, sid).starts_at = utcnow() - timedelta(minutes=3)
        db.session.commit()

    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/sessions/{sid}/live")
    page.get_by_role("button", name="Open check-in").click()
    page.locator(".checkin-code .code").wait_for()
    code = page.locator(".checkin-code .code").inner_text().replace(" ", "")
    assert len(code) == 6 and page.locator(".qr svg").count() == 1
    assert axe_violations(page) == []

    page.goto(f"/sessions/{sid}/roll")
    assert axe_violations(page) == []
    page.evaluate("() => { window.__sameDocument = 'yes'; }")
    ana_row = page.locator(f"#roll-{ana.id} .roll-status")
    assert ana_row.inner_text() == "not marked"

    trainee_context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    try:
        trainee = trainee_context.new_page()
        trainee.set_default_timeout(10_000)
        sign_in(trainee, ana.email, DEFAULT_PASSWORD)
        trainee.wait_for_url("**/dashboard/trainee")
        trainee.goto(f"/sessions/{sid}/live")
        assert axe_violations(trainee) == []
        trainee.get_by_label("Check-in code").fill(code)
        trainee.get_by_role("button", name="Check in").click()
        trainee.get_by_text("You are checked in: present.").wait_for()
        # the page is narrow enough for a small phone
        assert trainee.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        trainee_context.close()

    page.wait_for_function(
        f"() => document.querySelector('#roll-{ana.id} .roll-status').textContent.startsWith('Present')",
        timeout=10_000,
    )
    assert page.evaluate("() => window.__sameDocument") == "yes", "the roll reloaded the page"

    # one click per cell, in place, by keyboard (once htmx has processed the swapped-in roll:
    # a person never acts within the 20 ms between the swap and its settling, a test can)
    page.wait_for_function(f"() => !!document.querySelector('#roll-{ben.id} form')['htmx-internal-data']")
    page.locator(f"#roll-{ben.id} button[value='excused']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#roll-{ben.id} .roll-status').textContent.startsWith('Excused')"
    )
    assert page.evaluate("() => window.__sameDocument") == "yes", page.console.problems
