"""Cohorts as people use them, in a real browser (issue 8): the answer to an action is in
view where the person acted, with and without JavaScript; no page scrolls sideways on a
360-pixel phone; the countdown's refresh keeps keyboard focus."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from portal.extensions import db
from portal.models import Role
from tests.browser.conftest import axe_violations, sign_in
from tests.conftest import DEFAULT_PASSWORD

COHORT_PAGE = re.compile(r".*/cohorts/\d+(#.*)?$")


IN_VIEW = """(selector) => {
    const el = document.querySelector(selector);
    if (!el || !el.innerText.trim()) { return false; }
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
}"""


def in_view(page, selector: str) -> bool:
    """The element has text and its box is inside the viewport (within two seconds: after
    the swap settles and focus moves, with JavaScript; at once after a load without)."""
    try:
        page.wait_for_function(IN_VIEW, arg=selector, timeout=2000)
    except Exception:  # noqa: BLE001 - reported by the assert
        return False
    return True


def _big_paired_cohort(app, make_user, make_cohort, client_login=None):
    fran = make_user(roles=[Role.FACILITATOR], name="Fran Facilitator")
    people = [make_user(name=f"Trainee {n:02d}", organisation=f"Org {n % 3}") for n in range(24)]
    cohort = make_cohort(facilitators=[fran], trainees=people, capacity=30)
    with app.app_context():
        from portal.cohorts import dyads
        from portal.models import User

        dyads.pair_cohort(cohort.id, False, db.session.get(User, fran.id))
        db.session.commit()
    return fran, people, cohort


def _pick_swap(page):
    """Two people of different pairs (the form starts on such two; choose them again)."""
    first = page.locator("#first option").nth(0)
    page.select_option("#first", first.get_attribute("value"))
    return page.locator("#second").input_value()


def test_messages_in_view_with_javascript(app, page, make_user, make_cohort):
    fran, people, cohort = _big_paired_cohort(app, make_user, make_cohort)
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/cohorts/{cohort.id}")

    # Pair everyone again: it asks first, next to the button, then answers there.
    page.get_by_role("button", name="Pair everyone again…").click()
    page.get_by_text("This replaces the 12 current pairs").wait_for()
    page.get_by_role("button", name="Yes, replace the pairs").click()
    page.get_by_text("12 pairs formed.").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'dyads-message'")
    assert in_view(page, "#dyads-message")

    # Swap: the same person twice is refused next to the form.
    value = page.locator("#first").input_value()
    page.select_option("#second", value)
    page.get_by_role("button", name="Swap these two").click()
    page.get_by_text("Choose two different people to swap.").wait_for()
    assert in_view(page, "#dyads-message")
    _pick_swap(page)
    page.get_by_role("button", name="Swap these two").click()
    page.get_by_text("The two people swapped places.").wait_for()
    assert in_view(page, "#dyads-message")

    # Handout: from its week in the schedule to its own page; an error lands on the form with
    # focus on the summary; the handout then shows under its week, the message beside it.
    page.get_by_role("link", name="Add a handout to week 2").click()
    page.get_by_role("heading", name="Add a handout").wait_for()
    assert page.get_by_label("Week").input_value() == "2"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Add the handout").click()
    page.locator(".error-summary").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('error-summary')")
    assert in_view(page, ".error-summary")
    page.get_by_label("Title").fill("Reading list")
    page.get_by_label("Or a link").fill("https://example.org/reading")
    page.get_by_role("button", name="Add the handout").click()
    page.get_by_text("“Reading list” added to week 2.").wait_for()
    week2 = page.locator("li.session", has_text="Week 2")
    assert week2.get_by_role("link", name="Reading list").is_visible()
    message = week2.locator(".place-message")
    assert "added to week 2" in message.inner_text()
    assert page.evaluate("() => document.activeElement && document.activeElement.classList.contains('place-message')")
    assert message.evaluate("m => m === document.activeElement")
    assert axe_violations(page) == []
    # The refused handout form answers 422 by design; anything else in the console is a problem.
    assert [p for p in page.console.problems if "422" not in p] == []


def test_a_file_too_large_is_caught_before_sending(app, page, make_user, make_cohort, tmp_path):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran])
    big = tmp_path / "huge.pdf"
    with open(big, "wb") as f:
        f.seek(25 * 1024 * 1024)
        f.write(b"0")
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/cohorts/{cohort.id}/handouts/new")
    page.get_by_label("Title").fill("Huge")
    page.set_input_files("#file", str(big))
    page.get_by_text("That file is larger than 20 MB").wait_for()
    page.get_by_role("button", name="Add the handout").click()
    assert page.evaluate("() => document.activeElement.id") == "file"
    assert page.url.endswith(f"/cohorts/{cohort.id}/handouts/new"), "nothing was sent"


def test_messages_in_view_without_javascript(app, no_js_page, make_user, make_cohort):
    page = no_js_page
    page.set_viewport_size({"width": 390, "height": 800})
    fran, people, cohort = _big_paired_cohort(app, make_user, make_cohort)
    sign_in(page, fran.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/facilitator")
    page.goto(f"/cohorts/{cohort.id}")

    page.get_by_role("button", name="Pair everyone again…").click()
    page.get_by_text("This replaces the 12 current pairs").wait_for()  # a confirmation page
    page.get_by_role("button", name="Yes, replace the 12 pairs").click()
    page.wait_for_url(re.compile(r".*#dyads-message$"))
    assert "12 pairs formed." in page.locator("#dyads-message").inner_text()
    assert in_view(page, "#dyads-message")

    value = page.locator("#first").input_value()
    page.select_option("#second", value)
    page.get_by_role("button", name="Swap these two").click()
    page.wait_for_url(re.compile(r".*#dyads-message$"))
    assert "Choose two different people to swap." in page.locator("#dyads-message").inner_text()
    assert in_view(page, "#dyads-message")
    _pick_swap(page)
    page.get_by_role("button", name="Swap these two").click()
    page.wait_for_url(re.compile(r".*#dyads-message$"))
    assert "The two people swapped places." in page.locator("#dyads-message").inner_text()
    assert in_view(page, "#dyads-message")

    page.get_by_role("link", name="Add a handout", exact=True).click()
    page.get_by_role("button", name="Add the handout").click()
    page.locator(".error-summary").wait_for()
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    assert in_view(page, ".error-summary")
    page.get_by_label("Title").fill("Reading list")
    page.get_by_label("Or a link").fill("https://example.org/reading")
    page.get_by_role("button", name="Add the handout").click()
    page.wait_for_url(re.compile(r".*#session-\d+-message$"))
    place = "#" + page.url.split("#")[1]
    assert "“Reading list” added to week 1." in page.locator(place).inner_text()
    assert in_view(page, place)


def test_the_countdown_refresh_keeps_focus_on_join(app, page, make_user, make_cohort):
    from zoneinfo import ZoneInfo

    soon = datetime.now(UTC) + timedelta(minutes=10)
    local = soon.astimezone(ZoneInfo("America/New_York"))
    trainee = make_user(name="Tia Trainee")
    make_cohort(
        trainees=[trainee],
        facilitators=[make_user(roles=[Role.FACILITATOR])],
        first_day=local.date(),
        start=local.time().replace(second=0, microsecond=0),
    )
    page.clock.install()
    sign_in(page, trainee.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/dashboard/trainee")
    join = page.get_by_role("button", name="Join the session")
    join.focus()
    before = page.locator("#countdown").inner_text()
    # htmx has set up the countdown's minute timer (on a busy machine it may come after "load").
    page.wait_for_function("() => window.htmx && document.querySelector('#countdown')['htmx-internal-data']")
    with page.expect_response(lambda r: "part=countdown" in r.url, timeout=20_000):
        page.clock.fast_forward("01:05")
    page.wait_for_timeout(300)
    assert (
        page.evaluate("() => document.activeElement && document.activeElement.textContent.trim()") == "Join the session"
    )
    assert page.locator("#countdown").count() == 1 and before


# --- phones ---------------------------------------------------------------------------------

SKIP = re.compile(
    r"(/logout|\.ics$|/calendar/[^/]+\.ics|/handouts/\d+$|/static/|^mailto:|^tel:"
    r"|/certificates/\d+/(certificate\.pdf|credential\.jwt)$)"  # certification: downloads
)


def _reachable(page, start: str, limit: int = 40) -> list[str]:
    """Pages reachable by links from `start` (same site, GET), breadth first."""
    seen, queue, pages = set(), [start], []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        pages.append(url)
        yield url
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            if not href or href.startswith(("http", "#", "mailto:", "tel:", "webcal:")) or SKIP.search(href):
                continue
            path = urlsplit(href)
            target = path.path + (f"?{path.query}" if path.query else "")
            if target not in seen:
                queue.append(target)


def test_no_page_scrolls_sideways_at_360_pixels(app, browser, live_server):
    from portal import demo
    from tests.factories import empty_tables

    empty_tables(app)
    with app.app_context():
        people = demo.seed(DEFAULT_PASSWORD)
        emails = [p.email for p in people.values()]
    wide = []
    try:
        for email in (
            "admin@example.org",
            "facilitator1@example.org",
            "supervisor1@example.org",
            "trainee01@example.org",
            "trainee07@example.org",
        ):
            assert email in emails
            context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.set_default_timeout(10_000)
            sign_in(page, email, DEFAULT_PASSWORD)
            page.wait_for_url("**/dashboard/**")
            visited = 0
            for url in _reachable(page, "/dashboard"):
                visited += 1
                width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                if width[0] > width[1]:
                    culprits = page.evaluate(
                        """() => Array.from(document.querySelectorAll('body *'))
                            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                            .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + (e.id || ''))"""
                    )
                    wide.append(f"{email} {url}: {width[0]} px wide; {culprits}")
                # ... nor squeezes a table's cells to a letter a line to fit.
                squeezed = page.evaluate(
                    """() => Array.from(document.querySelectorAll('tbody td, tbody th'))
                        .filter(c => { const r = c.getBoundingClientRect();
                                       return r.width > 0 && r.width < 56 && c.innerText.trim().length > 4; })
                        .slice(0, 3).map(c => c.innerText.trim().slice(0, 24))"""
                )
                if squeezed:
                    wide.append(f"{email} {url}: table cells squeezed to a few letters a line: {squeezed}")
            assert visited >= 3, email
            context.close()
    finally:
        empty_tables(app)
    assert not wide, "pages that do not fit a 360-pixel phone:\n" + "\n".join(wide)
