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


def _fits(page, width=360) -> dict:
    """The document's width against the viewport's (and what sticks out, to say why)."""
    return page.evaluate(
        """(width) => ({
            scroll: document.documentElement.scrollWidth,
            wide: [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 5).map(e => e.tagName + '.' + (e.getAttribute('class') || '') + '#' + e.id),
        })""",
        width,
    )


def test_the_live_page_and_the_roll_are_readable_at_360_px(browser, live_server, app, make_user, make_cohort):
    """A facilitator on a small phone: the live page with the code and the QR code, and a
    roll with long names, make-up guests and marks, fit 360 px without sideways scrolling."""
    fran = make_user("fran.narrow@example.org", roles=[Role.FACILITATOR], name="Francesca Narrow-Facilitator")
    people = [
        make_user(f"narrow{i}@example.org", name=f"Maximiliana Alexandrina Featherstonehaugh-{i}") for i in range(4)
    ]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    sid = cohort.session_ids[0]
    with app.app_context():
        from portal.attendance import roll
        from portal.models import User

        session = db.session.get(CohortSession, sid)
        session.starts_at = utcnow() - timedelta(minutes=20)
        roll.open_checkin(session, db.session.get(User, fran.id))
        roll.mark(session, people[0].id, "late", 95, "Connection trouble at the start, joined by phone",
                  db.session.get(User, fran.id))
        db.session.commit()

    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, fran.email, DEFAULT_PASSWORD)
        page.wait_for_url("**/dashboard/facilitator")
        for path in (f"/sessions/{sid}/live", f"/sessions/{sid}/roll"):
            page.goto(path)
            page.locator("main h1").wait_for()
            fits = _fits(page)
            assert fits["scroll"] <= 360, (path, fits)
        assert page.locator(f"#roll-{people[1].id} button[value='present']").is_visible()
    finally:
        context.close()
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, people[1].email, DEFAULT_PASSWORD)
        page.wait_for_url("**/dashboard/trainee")
        page.goto(f"/sessions/{sid}/live")
        page.get_by_label("Check-in code").wait_for()
        fits = _fits(page)
        assert fits["scroll"] <= 360, ("trainee live page", fits)
    finally:
        context.close()


def test_the_roll_prints_as_a_plain_table(page, app, make_user, make_cohort):
    """The printable roll (print stylesheet): printed, the page is the session's heading and a
    table of every person with their status and minutes; the site's navigation, the buttons and
    the make-up section are left off the paper."""
    fran = make_user("fran.print@example.org", roles=[Role.FACILITATOR], name="Fran Print")
    people = [make_user(f"print{i}@example.org", name=f"Printed Person {i}") for i in range(3)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    sid = cohort.session_ids[0]
    with app.app_context():
        from portal.attendance import roll
        from portal.models import User

        session = db.session.get(CohortSession, sid)
        session.starts_at = utcnow() - timedelta(hours=3)
        roll.mark(session, people[0].id, "late", 95, None, db.session.get(User, fran.id))
        db.session.commit()
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/sessions/{sid}/roll")
    table = page.locator("table.print-only")
    assert not table.is_visible()  # on screen: the one-click roll instead
    page.emulate_media(media="print")
    assert table.is_visible()
    printed = " ".join(table.inner_text().split())
    assert all(f"Printed Person {i}" in printed for i in range(3)) and "95" in printed
    for hidden in (".site-header", "ul.roll", "#makeups", ".site-footer"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("main h1").is_visible()
