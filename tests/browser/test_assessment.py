"""The oral exam and competencies in a real browser: two facilitators mark the grid in two
browser contexts; a supervisor confirms competencies; the trainee sees both. Axe on the grid
and the supervisor's pages."""

from __future__ import annotations

from portal.assessment import oral_exam
from portal.extensions import db
from portal.models import OralExam, User
from tests.browser.conftest import axe_violations, sign_in
from tests.test_assessment import Exam


def test_two_facilitators_mark_a_supervisor_confirms_and_the_trainee_sees_both(
    app, browser, live_server, page, make_user, make_cohort
):
    exam = Exam(app, make_user, make_cohort, n=2, name="Browser Exam")
    exam_id = exam.open()
    items = exam.items(exam_id)
    tess = exam.trainees[0]
    grid = f"/oral-exams/{exam_id}"
    cell = f"#cell-{tess.id}-{items[0][0]}"

    other = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    try:
        gus = other.new_page()
        gus.set_default_timeout(10_000)
        sign_in(page, exam.fran.email, exam.fran.password)
        page.wait_for_url("**/dashboard/**")
        sign_in(gus, exam.gus.email, exam.gus.password)
        gus.wait_for_url("**/dashboard/**")
        page.goto(grid)
        gus.goto(grid)
        assert axe_violations(page) == []
        assert axe_violations(gus) == []

        # Fran presses the cell: it turns "Met" in place, with her name.
        page.evaluate("() => { window.__sameDocument = 'yes'; }")
        page.locator(f"{cell} button").click()
        page.locator(f"{cell} .mark-met").wait_for()
        assert "Fran Facil" in page.locator(cell).inner_text()
        assert page.evaluate("() => window.__sameDocument") == "yes"
        # Keyboard: focus stays on the cell's button.
        page.wait_for_function(f"() => document.activeElement && document.activeElement.closest('{cell}')")

        # Gus's view is stale: his press is refused and shows Fran's mark.
        gus.locator(f"{cell} button").click()
        gus.get_by_text("Someone else changed this").wait_for()
        assert "Met" in gus.locator(cell).inner_text() and "Fran Facil" in gus.locator(cell).inner_text()
        # Pressed again on the current mark (with the keyboard), his change goes through.
        gus.locator(f"{cell} button").focus()
        gus.keyboard.press("Enter")
        gus.locator(f"{cell} .mark-not_yet").wait_for()
        assert "Gus Facil" in gus.locator(cell).inner_text()

        # The rest of Tess's items are met; Fran finalises on the trainee's page.
        with app.app_context():
            ex = db.session.get(OralExam, exam_id)
            fran = db.session.get(User, exam.fran.id)
            oral_exam.set_mark(ex, tess.id, items[0][0], "met", 2, fran)
            for item_id, _ in items[1:]:
                oral_exam.set_mark(ex, tess.id, item_id, "met", 0, fran)
            db.session.commit()
        page.goto(f"/oral-exams/{exam_id}/trainees/{tess.id}")
        assert axe_violations(page) == []
        page.get_by_role("button", name=f"Finalise {tess.name}'s result").click()
        page.get_by_text("Finalised: passed.").wait_for()
    finally:
        other.close()

    # The supervisor confirms three competencies in one step.
    page.context.clear_cookies()
    sign_in(page, exam.sue.email, exam.sue.password)
    page.wait_for_url("**/dashboard/**")
    page.goto("/supervision")
    assert axe_violations(page) == []
    page.get_by_role("link", name=tess.name).click()
    page.wait_for_url(f"**/supervision/{tess.id}")
    assert axe_violations(page) == []
    for n in ("1. Protecting the rights of service users", "2. Technical knowledge", "3. Available technologies"):
        page.get_by_label(n, exact=False).first.check()
    page.get_by_label("Note of evidence (optional)").fill("Seen on our text line")
    page.get_by_role("button", name="Confirm the chosen competencies").click()
    page.get_by_text("Confirmed: 1, 2, 3.").wait_for()

    # The trainee sees her result, the items she met and the confirmations.
    page.context.clear_cookies()
    sign_in(page, tess.email, tess.password)
    page.wait_for_url("**/dashboard/**")
    page.goto("/my-assessment")
    text = page.locator("main").inner_text()
    assert "Passed" in text and "Seen on our text line" in text
    assert text.count("Confirmed") >= 3
    assert exam.trainees[1].name not in text
    assert axe_violations(page) == []


def test_the_grid_on_a_360px_phone_is_one_trainee_at_a_time_without_sideways_scrolling(
    app, browser, live_server, make_user, make_cohort
):
    exam = Exam(app, make_user, make_cohort, n=3, name="Phone Exam")
    exam_id = exam.open()
    items = exam.items(exam_id)
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    try:
        phone = context.new_page()
        phone.set_default_timeout(10_000)
        sign_in(phone, exam.fran.email, exam.fran.password)
        phone.wait_for_url("**/dashboard/**")
        for url in (f"/oral-exams/{exam_id}", f"/oral-exams/{exam_id}/trainees/{exam.trainees[0].id}"):
            phone.goto(url)
            widths = phone.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], (url, widths)
        phone.goto(f"/oral-exams/{exam_id}")
        # One block per trainee, the items as a list beneath the name (not a row of columns).
        first_row = phone.locator(f"#trainee-{exam.trainees[0].id}")
        cells = first_row.locator("td[data-item]")
        assert cells.count() == len(items)
        boxes = [cells.nth(i).bounding_box() for i in range(2)]
        assert boxes[1]["y"] > boxes[0]["y"] and abs(boxes[1]["x"] - boxes[0]["x"]) < 2  # stacked
        assert phone.locator(".oral-grid thead").bounding_box()["x"] < 0  # the header row is off-screen
        assert axe_violations(phone) == []
    finally:
        context.close()
